//! The modules of `shared` import each other without cycles, so each can be read (and moved)
//! starting from the ones it needs. A type two modules both need goes into a small module of
//! its own, as `error::FieldError` does. Comments are not imports: doc links may point
//! anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Top-level module → the top-level modules its code names as `crate::…`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = BTreeMap::new();
    for entry in fs::read_dir(&src).expect("shared/src") {
        let path = entry.expect("entry").path();
        let Some(name) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
            continue;
        };
        if name == "lib" {
            continue;
        }
        let mut files = vec![path.clone()];
        let mut i = 0;
        while i < files.len() {
            if files[i].is_dir() {
                let dir = files.remove(i);
                files.extend(
                    fs::read_dir(dir)
                        .expect("dir")
                        .map(|e| e.expect("entry").path()),
                );
            } else {
                i += 1;
            }
        }
        let deps: &mut BTreeSet<String> = graph.entry(name.clone()).or_default();
        for file in files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "rs"))
        {
            let text = fs::read_to_string(file).expect("source");
            for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (_, rest) in line
                    .match_indices("crate::")
                    .map(|(i, _)| line.split_at(i + 7))
                {
                    let module: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !module.is_empty() && module != name {
                        deps.insert(module);
                    }
                }
            }
        }
    }
    graph
}

#[test]
fn shared_modules_import_each_other_without_cycles() {
    let graph = imports();
    assert!(graph.contains_key("metrics") && graph.contains_key("error"));
    assert!(
        graph["error"].is_empty(),
        "error imports {:?}",
        graph["error"]
    );
    // Depth-first search; a module met again while still on the path closes a cycle.
    fn visit<'a>(
        m: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if let Some(start) = path.iter().position(|p| *p == m) {
            panic!("import cycle: {} → {m}", path[start..].join(" → "));
        }
        if !done.insert(m) {
            return;
        }
        path.push(m);
        for d in graph.get(m).into_iter().flatten() {
            visit(d, graph, path, done);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        visit(m, &graph, &mut Vec::new(), &mut done);
    }
}
