//! `cargo xtask build` and `cargo xtask serve`.
//!
//! The Wasm is built with plain cargo and bound with `wasm-bindgen-cli-support` used as a
//! library, pinned to the exact `wasm-bindgen` version in Cargo.lock: nothing is downloaded.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Result, cargo_cmd, exec, root, target_dir};

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const CRATE: &str = "rollgate-frontend";
const WASM_NAME: &str = "rollgate_frontend";

/// What `build` produced, with sizes for the record.
pub struct Bundle {
    pub dist: PathBuf,
    /// `pkg/<build id>`: the modules and scripts of this build, under `dist/`.
    pub pkg: String,
    /// (file under `dist/`, bytes, gzipped bytes), the files a browser may fetch.
    pub files: Vec<(String, u64, u64)>,
    /// Modules loaded on demand: (split name, the files it fetches beyond the first screen).
    pub splits: Vec<(String, Vec<String>)>,
}

/// Files of the build's `pkg/` directory every page needs before it can draw (besides
/// index.html and the stylesheet): the first screen, the change list, needs nothing more.
const FIRST_SCREEN: [&str; 3] = [
    "rollgate_frontend.js",
    "__wasm_split.js",
    "rollgate_frontend_bg.wasm",
];

impl Bundle {
    fn gz(&self, file: &str) -> u64 {
        self.files.iter().find(|f| f.0 == file).map_or(0, |f| f.2)
    }

    /// Everything in the bundle, every page module included.
    pub fn gzipped_total(&self) -> u64 {
        self.files.iter().map(|f| f.2).sum()
    }

    /// What a browser downloads to show the first screen.
    pub fn first_screen(&self) -> u64 {
        let pkg: u64 = FIRST_SCREEN
            .iter()
            .map(|f| self.gz(&format!("{}/{f}", self.pkg)))
            .sum();
        self.gz("index.html") + self.gz("rollgate.css") + pkg
    }

    /// What opening each lazily loaded part directly downloads: the first screen plus its
    /// modules, largest first.
    pub fn pages(&self) -> Vec<(String, u64)> {
        let mut pages: Vec<(String, u64)> = self
            .splits
            .iter()
            .map(|(name, deps)| {
                let extra: u64 = deps
                    .iter()
                    .map(|d| self.gz(&format!("{}/{d}.wasm", self.pkg)))
                    .sum();
                (label(name), self.first_screen() + extra)
            })
            .collect();
        pages.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        pages
    }
}

/// `page_view_11900334103841132105` → `any other page`: a split module's name as people would
/// say it.
fn label(split: &str) -> String {
    let name = split
        .rsplit_once('_')
        .filter(|(_, hash)| !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_digit()))
        .map_or(split, |(head, _)| head);
    match name {
        "page_view" => "any other page".to_string(),
        other => other.to_string(),
    }
}

pub fn run(args: &[String]) -> Result<Bundle> {
    let dev = args.iter().any(|a| a == "--dev");
    if let Some(other) = args.iter().find(|a| *a != "--dev") {
        return Err(format!("build: unknown argument `{other}` (only --dev)"));
    }
    ensure_wasm_target()?;
    let profile = if dev { "dev" } else { "wasm-release" };
    exec(&mut cargo_cmd([
        "build",
        "--package",
        CRATE,
        "--target",
        WASM_TARGET,
        "--profile",
        profile,
    ]))?;
    let profile_dir = if dev { "debug" } else { profile };
    let wasm = target_dir()?
        .join(WASM_TARGET)
        .join(profile_dir)
        .join(format!("{WASM_NAME}.wasm"));
    let dist = root().join("dist");
    assemble(&wasm, &dist, !dev)
}

/// Splits the Wasm into a main module and the modules loaded on demand, binds the main module and writes
/// `dist/`: index.html, rollgate.css, `pkg/<build id>/` and a .gz of each compressible file so
/// the server can send precompressed bytes. A release bundle is compressed with zopfli: slower,
/// and about 5 % smaller than the best zlib level.
///
/// The build id names the directory after its contents. A page module only fits the main
/// module it was split from, so a tab still running an earlier build must never fetch this
/// build's modules: under a new directory it gets a clean failure instead.
fn assemble(wasm: &Path, dist: &Path, thorough: bool) -> Result<Bundle> {
    let pkg = dist.join("pkg").join("build");
    if dist.exists() {
        fs::remove_dir_all(dist).map_err(|e| format!("could not clear {}: {e}", dist.display()))?;
    }
    fs::create_dir_all(&pkg).map_err(|e| format!("could not create {}: {e}", pkg.display()))?;

    let main = wasm
        .with_file_name("split")
        .join(format!("{WASM_NAME}.wasm"));
    let splits = split(wasm, &main, &pkg)?;
    if thorough && wasm_opt_found() {
        // The main module before binding: Binaryen keeps the custom sections wasm-bindgen reads
        // (and `-g` the names), and what it writes after binding does not start in a browser.
        wasm_opt(&main, &["-g"])?;
    }

    eprintln!("$ wasm-bindgen --target web {}", main.display());
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&main)
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e}"))?
        .typescript(false)
        // The page modules import the main module's function table by this export.
        .keep_lld_exports(true)
        // Function names are for debuggers; they are over half of the raw module.
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate(&pkg)
        .map_err(|e| format!("wasm-bindgen: {e:#}"))?;
    if thorough {
        shrink_modules(&pkg)?;
        // Last, once nothing else rewrites them: walrus (in wasm-bindgen and the re-encoding of
        // the page modules) writes the functions largest first.
        for module in files_in(&pkg, |p| p.extension().is_some_and(|x| x == "wasm"))? {
            let wasm = fs::read(&module)
                .map_err(|e| format!("could not read {}: {e}", module.display()))?;
            let mut ordered = functions_by_code(&wasm)
                .map_err(|e| format!("could not reorder {}: {e}", module.display()))?;
            blank_source_paths(&mut ordered);
            fs::write(&module, ordered)
                .map_err(|e| format!("could not write {}: {e}", module.display()))?;
        }
        for script in files_in(&pkg, |p| p.extension().is_some_and(|x| x == "js"))? {
            let js = fs::read_to_string(&script)
                .map_err(|e| format!("could not read {}: {e}", script.display()))?;
            fs::write(&script, minify_js(&js))
                .map_err(|e| format!("could not write {}: {e}", script.display()))?;
        }
    }

    let id = build_id(&pkg)?;
    let pkg_rel = format!("pkg/{id}");
    let built = dist.join(&pkg_rel);
    fs::rename(&pkg, &built).map_err(|e| format!("could not move {}: {e}", pkg.display()))?;
    let pkg = built;

    let index = root().join("frontend/index.html");
    let html = fs::read_to_string(&index)
        .map_err(|e| format!("could not read {}: {e}", index.display()))?;
    fs::write(
        dist.join("index.html"),
        html.replace("/pkg/", &format!("/{pkg_rel}/")),
    )
    .map_err(|e| format!("could not write index.html: {e}"))?;
    let css = stylesheet()?;
    let css = if thorough { minify_css(&css) } else { css };
    fs::write(dist.join("rollgate.css"), css)
        .map_err(|e| format!("could not write rollgate.css: {e}"))?;

    let mut names: Vec<String> = ["index.html", "rollgate.css"].map(String::from).to_vec();
    names.extend(FIRST_SCREEN.iter().map(|f| format!("{pkg_rel}/{f}")));
    let mut modules: Vec<String> = fs::read_dir(&pkg)
        .map_err(|e| format!("could not read {}: {e}", pkg.display()))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".wasm") && !FIRST_SCREEN.contains(&n.as_str()))
        .map(|n| format!("{pkg_rel}/{n}"))
        .collect();
    modules.sort();
    names.extend(modules);

    let mut files = Vec::new();
    for rel in names {
        let path = dist.join(&rel);
        let bytes = fs::read(&path).map_err(|e| format!("{} is missing: {e}", path.display()))?;
        let gz = gzip(&bytes, thorough)?;
        fs::write(dist.join(format!("{rel}.gz")), &gz)
            .map_err(|e| format!("could not write {rel}.gz: {e}"))?;
        files.push((rel, bytes.len() as u64, gz.len() as u64));
    }
    let bundle = Bundle {
        dist: dist.to_path_buf(),
        pkg: pkg_rel,
        files,
        splits,
    };
    for (name, raw, gz) in &bundle.files {
        eprintln!(
            "  {name:<34} {:>8.1} KB  {:>7.1} KB gzipped",
            kb(*raw),
            kb(*gz)
        );
    }
    eprintln!(
        "  {:<34} {:>8}     {:>7.1} KB gzipped",
        "first screen (change list)",
        "",
        kb(bundle.first_screen())
    );
    for (page, size) in bundle.pages() {
        eprintln!(
            "  {:<34} {:>8}     {:>7.1} KB gzipped",
            format!("opening {page}"),
            "",
            kb(size)
        );
    }
    eprintln!(
        "  {:<34} {:>8}     {:>7.1} KB gzipped",
        "all files",
        "",
        kb(bundle.gzipped_total())
    );
    Ok(bundle)
}

/// The paths in `dir` that `keep` accepts, sorted by name.
fn files_in(dir: &Path, keep: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("could not read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| keep(p))
        .collect();
    paths.sort();
    Ok(paths)
}

/// Sixteen hex digits that change whenever any file in `dir` does.
fn build_id(dir: &Path) -> Result<String> {
    use std::hash::{DefaultHasher, Hasher};
    let mut hasher = DefaultHasher::new();
    for path in files_in(dir, |_| true)? {
        let bytes =
            fs::read(&path).map_err(|e| format!("could not read {}: {e}", path.display()))?;
        hasher.write(path.file_name().unwrap_or_default().as_encoded_bytes());
        hasher.write(&bytes);
    }
    Ok(format!("{:016x}", hasher.finish()))
}

/// The console's size budget, gzipped: what the first screen downloads, and the whole console
/// with every page module. `cargo xtask test` fails a release bundle over either.
pub const FIRST_SCREEN_BUDGET: u64 = 300_000;
pub const WHOLE_BUDGET: u64 = 650_000;

/// Binaryen's passes that make the gzipped modules smaller, in order (measured pass by pass in
/// BENCHMARKS.md, "Console bundle"): merging identical functions saves the most, and again once
/// the instruction passes have made more of them identical; a second round, code folding and
/// reordering locals save about 3 KB more. The rest of `-Oz` makes the raw module smaller but
/// the gzipped one larger: inlining (+9 %) and the local passes rewrite the repeated patterns
/// compression feeds on. The features are the ones rustc uses for `wasm32-unknown-unknown`;
/// the section naming them does not survive binding and splitting.
const WASM_OPT_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];
const WASM_OPT_ROUND: [&str; 7] = [
    "--duplicate-function-elimination",
    "--optimize-instructions",
    "--remove-unused-brs",
    "--merge-blocks",
    "--precompute",
    "--vacuum",
    "--duplicate-function-elimination",
];

/// Runs Binaryen's `wasm-opt` ([`WASM_OPT_ROUND`] twice, with code folding between) over the page modules of a release bundle once
/// it is bound and split (before, it would drop the relocations wasm-split reads). Exports,
/// imports and the function table stay as they are, so the page modules still fit the main
/// module. Without `wasm-opt` on the PATH (Debian: `apt-get install binaryen`; `.ci/run`
/// installs it) the bundle is built as it is, about 8 KB larger, and says so.
fn shrink_modules(pkg: &Path) -> Result {
    if !wasm_opt_found() {
        eprintln!(
            "note: wasm-opt not found (apt-get install binaryen): the console is built without \
             Binaryen's passes, about 8 KB larger gzipped"
        );
        return Ok(());
    }
    let mut modules: Vec<PathBuf> = fs::read_dir(pkg)
        .map_err(|e| format!("could not read {}: {e}", pkg.display()))?
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        // The main module was shrunk before binding (see `assemble`): Binaryen 108 (Debian's)
        // writes back a bound main module the browser cannot start, even with no pass at all.
        .filter(|p| !p.ends_with(format!("{WASM_NAME}_bg.wasm")))
        .collect();
    modules.sort();
    for module in modules {
        // A page module's functions are all reached through its element segments (or nothing
        // reaches them): dropping the rest is about 0.5 KB gzipped.
        wasm_opt(&module, &["--remove-unused-module-elements"])?;
    }
    Ok(())
}

fn wasm_opt_found() -> bool {
    Command::new("wasm-opt").arg("--version").output().is_ok()
}

/// [`WASM_OPT_ROUND`] twice with code folding between, then locals reordered, on `module` in
/// place, with `extra` arguments.
fn wasm_opt(module: &Path, extra: &[&str]) -> Result {
    let mut cmd = Command::new("wasm-opt");
    cmd.args(WASM_OPT_FEATURES)
        .args(extra)
        .args(WASM_OPT_ROUND)
        .arg("--code-folding")
        .args(WASM_OPT_ROUND)
        .arg("--reorder-locals")
        .arg(module)
        .arg("-o")
        .arg(module);
    exec(&mut cmd)
}

/// Cuts the functions marked `#[lazy]` in the frontend (the view of the pages other than the
/// change list) out of `wasm` into modules of their own in `pkg/`, writes the main module to
/// `main` and the loader `pkg/__wasm_split.js`. Returns each lazy function's module with the
/// files it fetches (code that two of them share would be a further module of its own).
fn split(wasm: &Path, main: &Path, pkg: &Path) -> Result<Vec<(String, Vec<String>)>> {
    let input = fs::read(wasm).map_err(|e| format!("could not read {}: {e}", wasm.display()))?;
    if let Some(dir) = main.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("could not create {}: {e}", dir.display()))?;
    }
    eprintln!("$ wasm-split {}", wasm.display());
    let mut opts = wasm_split_cli_support::Options::new(&input);
    opts.output_dir = pkg;
    opts.main_out_path = main;
    // The page modules share the main module's memory and functions: the loader imports them
    // from the same URL as index.html, so the one instance is used.
    opts.main_module = "./rollgate_frontend.js";
    opts.link_name = "./__wasm_split.js";
    let out = wasm_split_cli_support::transform(opts).map_err(|e| format!("wasm-split: {e:#}"))?;
    for module in &out.split_modules {
        let bytes =
            fs::read(module).map_err(|e| format!("could not read {}: {e}", module.display()))?;
        // Re-encoding shortens the padded indices the linker left for relocation.
        let compact = walrus::Module::from_buffer(&bytes)
            .map_err(|e| format!("could not read {}: {e}", module.display()))?
            .emit_wasm();
        let stripped = strip_custom_sections(&compact)
            .ok_or_else(|| format!("wasm-split wrote a malformed {}", module.display()))?;
        fs::write(module, stripped)
            .map_err(|e| format!("could not write {}: {e}", module.display()))?;
    }
    let mut splits: Vec<(String, Vec<String>)> = out.prefetch_map.into_iter().collect();
    splits.sort();
    Ok(splits)
}

/// `wasm` with its functions sorted by their code (locals and instructions as bytes), so that
/// functions that begin alike, such as the copies of one generic function, sit side by side
/// and gzip finds what they share close at hand: 2.6 % off the main module and 2.3 % off the
/// pages module with zopfli, against walrus' largest first (BENCHMARKS.md, "Console bundle").
/// Every reference to a function (calls, element segments, exports, the start function)
/// follows it to its new index. The name section, whose indices would no longer be in order,
/// is dropped.
fn functions_by_code(wasm: &[u8]) -> std::result::Result<Vec<u8>, String> {
    use wasm_encoder::reencode::{Error, Reencode};
    use wasmparser::{Parser, Payload, TypeRef};

    let err = |e: wasmparser::BinaryReaderError| e.to_string();
    let mut imported = 0u32;
    let mut bodies: Vec<&[u8]> = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(err)? {
            Payload::ImportSection(section) => {
                for import in section.into_imports() {
                    if matches!(import.map_err(err)?.ty, TypeRef::Func(_)) {
                        imported += 1;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => bodies.push(body.as_bytes()),
            _ => {}
        }
    }
    let mut order: Vec<u32> = (0..bodies.len() as u32).collect();
    order.sort_by_key(|&i| (bodies[i as usize], i));
    let mut new_index = vec![0u32; order.len()];
    for (at, &old) in order.iter().enumerate() {
        new_index[old as usize] = imported + at as u32;
    }

    struct Reorder {
        imported: u32,
        order: Vec<u32>,
        new_index: Vec<u32>,
    }
    impl Reencode for Reorder {
        type Error = std::convert::Infallible;

        fn function_index(&mut self, func: u32) -> std::result::Result<u32, Error> {
            Ok(match func.checked_sub(self.imported) {
                Some(local) => self.new_index[local as usize],
                None => func,
            })
        }

        fn parse_function_section(
            &mut self,
            functions: &mut wasm_encoder::FunctionSection,
            section: wasmparser::FunctionSectionReader<'_>,
        ) -> std::result::Result<(), Error> {
            let types = section
                .into_iter()
                .collect::<std::result::Result<Vec<u32>, _>>()?;
            for old in self.order.clone() {
                functions.function(self.type_index(types[old as usize])?);
            }
            Ok(())
        }

        fn parse_code_section(
            &mut self,
            code: &mut wasm_encoder::CodeSection,
            section: wasmparser::CodeSectionReader<'_>,
        ) -> std::result::Result<(), Error> {
            let bodies = section
                .into_iter()
                .collect::<std::result::Result<Vec<_>, _>>()?;
            for old in self.order.clone() {
                self.parse_function_body(code, bodies[old as usize].clone())?;
            }
            Ok(())
        }

        fn parse_custom_section(
            &mut self,
            module: &mut wasm_encoder::Module,
            section: wasmparser::CustomSectionReader<'_>,
        ) -> std::result::Result<(), Error> {
            if section.name() == "name" {
                return Ok(());
            }
            wasm_encoder::reencode::utils::parse_custom_section(self, module, section)
        }
    }

    let mut module = wasm_encoder::Module::new();
    Reorder {
        imported,
        order,
        new_index,
    }
    .parse_core_module(&mut module, Parser::new(0), wasm)
    .map_err(|e| e.to_string())?;
    Ok(module.finish())
}

/// `wasm` without its custom sections (function names for debuggers, tool metadata): the page
/// modules would otherwise carry the names of every function they hold, which is more than
/// their code. None when the module is not well formed.
fn strip_custom_sections(wasm: &[u8]) -> Option<Vec<u8>> {
    let header = wasm.get(..8)?;
    let mut out = header.to_vec();
    let mut at = 8;
    while at < wasm.len() {
        let start = at;
        let id = wasm[at];
        at += 1;
        let len = leb128(wasm, &mut at)?;
        let end = at.checked_add(len).filter(|&e| e <= wasm.len())?;
        if id != 0 {
            out.extend_from_slice(&wasm[start..end]);
        }
        at = end;
    }
    Some(out)
}

/// Reads an unsigned LEB128 number (at most 32 bits) at `at`, moving past it.
fn leb128(bytes: &[u8], at: &mut usize) -> Option<usize> {
    let mut value = 0usize;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Moves past a signed LEB128 number (up to 64 bits) at `at`.
fn skip_sleb128(bytes: &[u8], at: &mut usize) -> Option<()> {
    for _ in 0..10 {
        let byte = *bytes.get(*at)?;
        *at += 1;
        if byte & 0x80 == 0 {
            return Some(());
        }
    }
    None
}

pub fn kb(bytes: u64) -> f64 {
    bytes as f64 / 1000.0
}

/// The files of `style/` concatenated in name order, so the cascade order is the file order.
fn stylesheet() -> Result<String> {
    let dir = root().join("style");
    let mut css = String::new();
    for p in files_in(&dir, |p| p.extension().is_some_and(|x| x == "css"))? {
        let text =
            fs::read_to_string(&p).map_err(|e| format!("could not read {}: {e}", p.display()))?;
        css.push_str(&format!(
            "/* {} */\n",
            p.file_name().unwrap_or_default().to_string_lossy()
        ));
        css.push_str(&text);
        css.push('\n');
    }
    Ok(css)
}

/// Drops comments and the whitespace CSS does not need. Quoted strings are copied as they are,
/// and a space is kept wherever one separates two words, so selectors such as `.a :hover`
/// keep their meaning.
fn minify_css(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut pending_space = false;
    let mut rest = css;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |end| &after[end + 2..]);
            pending_space = true;
            continue;
        }
        if c.is_whitespace() {
            pending_space = true;
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let tight = |ch: char| matches!(ch, '{' | '}' | ';' | ',');
        if pending_space && !out.is_empty() && !out.ends_with(tight) && !tight(c) {
            out.push(' ');
        }
        pending_space = false;
        if c == '"' || c == '\'' {
            let mut end = c.len_utf8();
            let mut escaped = false;
            for (i, ch) in rest[end..].char_indices() {
                end = c.len_utf8() + i + ch.len_utf8();
                if escaped {
                    escaped = false;
                } else if ch == '\\' {
                    escaped = true;
                } else if ch == c {
                    break;
                }
            }
            out.push_str(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Blanks the source file paths in a module's data (`…/src/….rs`: the file of each place
/// that may panic, for the panic message), keeping their lengths so every offset stays
/// valid: 2.1 KB gzipped, most of it the registry's and the toolchain's long prefixes. A
/// panic in the release console still says what went wrong and where in the Wasm, without
/// the file. Only the bytes of the data segments are touched (never a segment's header, whose
/// size may read as a path character), and only a run of path characters that holds `/src/`
/// and ends in `.rs`. A data section it cannot read is left as it is.
fn blank_source_paths(wasm: &mut [u8]) {
    let Some(section) = data_section(wasm) else {
        return;
    };
    let Some(payloads) = data_payloads(&wasm[section.clone()]) else {
        return;
    };
    for payload in payloads {
        blank_paths_in(&mut wasm[section.start + payload.start..section.start + payload.end]);
    }
}

fn blank_paths_in(bytes: &mut [u8]) {
    let is_path = |b: u8| b.is_ascii_alphanumeric() || b"_./+-".contains(&b);
    let mut i = 0;
    while let Some(at) = bytes[i..].windows(3).position(|w| w == b".rs") {
        let end = i + at + 3;
        i = end;
        if bytes.get(end).is_some_and(|&b| is_path(b)) {
            continue;
        }
        let mut start = end - 3;
        while start > 0 && is_path(bytes[start - 1]) {
            start -= 1;
        }
        if bytes[start..end].windows(5).any(|w| w == b"/src/") {
            bytes[start..end].fill(0);
        }
    }
}

/// The byte ranges of the segments' contents in a data section's bytes: each segment is its
/// mode (`0` active, `1` passive, `2` active in memory `n`), an offset expression for the
/// active ones, its size and its bytes. `None` when an expression is not one this module's
/// toolchain writes (constants, `global.get`, and extended-const arithmetic).
fn data_payloads(section: &[u8]) -> Option<Vec<std::ops::Range<usize>>> {
    let mut at = 0;
    let count = leb128(section, &mut at)?;
    let mut out = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let mode = leb128(section, &mut at)?;
        if mode == 2 {
            leb128(section, &mut at)?;
        }
        if mode != 1 {
            loop {
                let op = *section.get(at)?;
                at += 1;
                match op {
                    0x0b => break,
                    0x41 | 0x42 => skip_sleb128(section, &mut at)?,
                    0x23 => {
                        leb128(section, &mut at)?;
                    }
                    0x6a..=0x6c | 0x7c..=0x7e => {}
                    _ => return None,
                }
            }
        }
        let size = leb128(section, &mut at)?;
        let end = at.checked_add(size).filter(|&e| e <= section.len())?;
        out.push(at..end);
        at = end;
    }
    Some(out)
}

/// The byte range of a module's data section (id 11), if it has one.
fn data_section(wasm: &[u8]) -> Option<std::ops::Range<usize>> {
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let len = leb128(wasm, &mut at)?;
        let range = at..at.checked_add(len)?.min(wasm.len());
        if id == 11 {
            return Some(range);
        }
        at = range.end;
    }
    None
}

/// Drops the comment lines, blank lines and indentation of wasm-bindgen's glue (about 1.5 KB
/// gzipped). Only whole lines go: a line that opens a comment (`//`, or `/*` through the
/// line that closes it) and nothing else. A script with a template literal over several
/// lines, whose lines are text, is left as it is.
fn minify_js(js: &str) -> String {
    let multi_line_template = js.split('`').skip(1).step_by(2).any(|t| t.contains('\n'));
    if multi_line_template {
        return js.to_owned();
    }
    let mut out = String::with_capacity(js.len());
    let mut in_comment = false;
    for line in js.lines().map(str::trim) {
        if in_comment {
            in_comment = !line.ends_with("*/");
            continue;
        }
        if line.starts_with("/*") {
            in_comment = !line.ends_with("*/");
            continue;
        }
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn gzip(bytes: &[u8], thorough: bool) -> Result<Vec<u8>> {
    if thorough {
        let mut out = Vec::new();
        zopfli::compress(
            zopfli::Options {
                // Splitting a module into more Deflate blocks, each with Huffman codes fitted to
                // its stretch of code, is about 0.5 % smaller than the default's at most 15
                // (−1.5 KB on the main module, −2 KB on the pages module); more iterations were
                // larger.
                maximum_block_splits: 50,
                ..zopfli::Options::default()
            },
            zopfli::Format::Gzip,
            bytes,
            &mut out,
        )
        .map_err(|e| e.to_string())?;
        return Ok(out);
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).map_err(|e| e.to_string())?;
    enc.finish().map_err(|e| e.to_string())
}

/// Adds the Wasm target with rustup when this toolchain lacks it (rustup fetches the standard
/// library component; nothing else is downloaded).
pub fn ensure_wasm_target() -> Result {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    match out {
        Ok(o)
            if String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == WASM_TARGET) =>
        {
            Ok(())
        }
        Ok(_) => exec(Command::new("rustup").args(["target", "add", WASM_TARGET])),
        // Without rustup the toolchain must already have the target; cargo will say if not.
        Err(_) => Ok(()),
    }
}

/// Builds the server binary and returns its path.
pub fn server_binary() -> Result<PathBuf> {
    exec(&mut cargo_cmd([
        "build",
        "--package",
        "rollgate-backend",
        "--bin",
        "rollgate",
    ]))?;
    Ok(target_dir()?.join("debug").join("rollgate"))
}

pub fn serve(args: &[String]) -> Result {
    let bundle = run(&[])?;
    let bin = server_binary()?;
    let mut cmd = Command::new(&bin);
    cmd.arg("serve")
        .arg("--demo")
        .arg("--demo-history")
        .arg("--dist")
        .arg(&bundle.dist)
        .args(args)
        .current_dir(root());
    exec(&mut cmd)
}

#[cfg(test)]
mod tests {
    use super::{
        blank_source_paths, functions_by_code, minify_css, minify_js, strip_custom_sections,
    };

    #[test]
    fn custom_sections_are_dropped_and_the_rest_kept() {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        // A custom "name" section, a type section with one `() -> ()`, a custom section again.
        wasm.extend_from_slice(&[0, 5, 4, b'n', b'a', b'm', b'e']);
        wasm.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]);
        wasm.extend_from_slice(&[0, 2, 1, b'x']);
        assert_eq!(
            strip_custom_sections(&wasm).unwrap(),
            b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0".to_vec()
        );
        // A section longer than the module is an error, not a panic.
        assert_eq!(strip_custom_sections(b"\0asm\x01\0\0\0\x01\x09\x01"), None);
    }

    /// A module importing one function and defining three: `run` (exported, calls the second),
    /// one that returns 9 and one that returns 7, in that order, with a name section.
    fn three_functions() -> Vec<u8> {
        use wasm_encoder::{
            CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection,
            ImportSection, Instruction, Module, NameMap, NameSection, TypeSection, ValType,
        };
        let mut module = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], [ValType::I32]);
        module.section(&types);
        let mut imports = ImportSection::new();
        imports.import("env", "f", EntityType::Function(0));
        module.section(&imports);
        let mut functions = FunctionSection::new();
        functions.function(0).function(0).function(0);
        module.section(&functions);
        let mut exports = ExportSection::new();
        exports.export("run", ExportKind::Func, 1);
        module.section(&exports);
        let mut code = CodeSection::new();
        for body in [
            [Instruction::Call(2), Instruction::End],
            [Instruction::I32Const(9), Instruction::End],
            [Instruction::I32Const(7), Instruction::End],
        ] {
            let mut f = Function::new([]);
            for i in &body {
                f.instruction(i);
            }
            code.function(&f);
        }
        module.section(&code);
        let mut names = NameMap::new();
        names.append(1, "run");
        let mut section = NameSection::new();
        section.functions(&names);
        module.section(&section);
        module.finish()
    }

    #[test]
    fn functions_are_ordered_by_code_and_references_follow() {
        use wasmparser::{Operator, Parser, Payload};
        let ordered = functions_by_code(&three_functions()).unwrap();
        wasmparser::validate(&ordered).unwrap();
        let (mut export, mut bodies, mut custom) = (None, Vec::new(), 0);
        for payload in Parser::new(0).parse_all(&ordered) {
            match payload.unwrap() {
                Payload::ExportSection(s) => {
                    export = Some(s.into_iter().next().unwrap().unwrap().index)
                }
                Payload::CodeSectionEntry(body) => bodies.push(
                    body.get_operators_reader()
                        .unwrap()
                        .into_iter()
                        .map(|op| format!("{:?}", op.unwrap()))
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                Payload::CustomSection(_) => custom += 1,
                _ => {}
            }
        }
        // `call` (0x10) sorts before `i32.const` (0x41), 7 before 9: `run` keeps index 1, the
        // function it calls moves from 2 to 3.
        assert_eq!(
            bodies,
            [
                format!("{:?} End", Operator::Call { function_index: 3 }),
                format!("{:?} End", Operator::I32Const { value: 7 }),
                format!("{:?} End", Operator::I32Const { value: 9 }),
            ]
        );
        assert_eq!(export, Some(1));
        assert_eq!(custom, 0, "the name section is dropped");
    }

    /// A module with a custom section holding a path, then a data section of `segments`
    /// (active at offset 0), each its size byte and its bytes.
    fn module_with_data(segments: &[&[u8]]) -> Vec<u8> {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        let custom = b"\x01nx/src/m.rs";
        wasm.push(0);
        wasm.push(custom.len() as u8);
        wasm.extend_from_slice(custom);
        let mut section = vec![segments.len() as u8];
        for bytes in segments {
            section.extend_from_slice(&[0, 0x41, 0, 0x0b, bytes.len() as u8]);
            section.extend_from_slice(bytes);
        }
        wasm.push(11);
        let len = section.len();
        if len < 0x80 {
            wasm.push(len as u8);
        } else {
            wasm.extend_from_slice(&[(len & 0x7f) as u8 | 0x80, (len >> 7) as u8]);
        }
        wasm.extend_from_slice(&section);
        wasm
    }

    #[test]
    fn source_paths_are_blanked_in_the_data_only() {
        let data = b"ab/src/lib.rs\0x/src/a.rsx\0shared/src/plan.rs";
        let wasm = module_with_data(&[data]);
        let mut out = wasm.clone();
        blank_source_paths(&mut out);
        let tail = &out[out.len() - data.len()..];
        assert_eq!(
            &tail[..14],
            &[0u8; 13].iter().chain(b"\0").copied().collect::<Vec<_>>()[..]
        );
        assert_eq!(
            &tail[14..25],
            b"x/src/a.rsx",
            "a longer name is no source path"
        );
        assert!(tail[26..].iter().all(|&b| b == 0));
        assert_eq!(
            &out[..out.len() - data.len()],
            &wasm[..wasm.len() - data.len()]
        );
    }

    #[test]
    fn a_segment_size_that_reads_as_a_path_character_is_kept() {
        // 119 bytes: the size byte is 0x77, `w`, right before the segment's first path.
        let mut first = b"frontend/src/lib.rs\0".to_vec();
        first.resize(119, b'.');
        let second = b"src/x.rs|shared/src/ab.rs";
        let wasm = module_with_data(&[&first, second]);
        let mut out = wasm.clone();
        blank_source_paths(&mut out);
        let at = wasm.len() - second.len() - 5 - first.len() - 5;
        assert_eq!(out[at..at + 5], [0, 0x41, 0, 0x0b, 0x77]);
        assert!(out[at + 5..at + 5 + 19].iter().all(|&b| b == 0));
        assert_eq!(
            out[at + 5 + 19..at + 5 + 119],
            wasm[at + 5 + 19..at + 5 + 119]
        );
        let second_at = out.len() - second.len();
        assert_eq!(out[second_at - 5..second_at], [0, 0x41, 0, 0x0b, 25]);
        assert_eq!(
            &out[second_at..second_at + 9],
            b"src/x.rs|",
            "no /src/ in it"
        );
        assert!(out[second_at + 9..].iter().all(|&b| b == 0));
        // An offset it cannot read leaves the data alone.
        let mut odd = wasm.clone();
        let op = wasm.len() - second.len() - 4;
        odd[op] = 0x44;
        let mut blanked = odd.clone();
        blank_source_paths(&mut blanked);
        assert_eq!(blanked, odd);
    }

    #[test]
    fn minified_js_drops_only_whole_comment_lines() {
        let js = "/**\n * Doc.\n */\nexport function f(a) {\n    // why\n    return a + '//' + \"/*\"; // kept\n}\n\n";
        assert_eq!(
            minify_js(js),
            "export function f(a) {\nreturn a + '//' + \"/*\"; // kept\n}\n"
        );
        let template = "const s = `one\n    two`;\n// note\n";
        assert_eq!(minify_js(template), template);
    }

    #[test]
    fn minified_css_keeps_meaning() {
        let css = "/* base */\n.a :hover,\n.b > .c {\n  content: \"  two  spaces \\\" \";\n  margin: 0 auto;\n}\n\n@media (max-width: 600px) { .d { gap: 4px } }\n";
        assert_eq!(
            minify_css(css),
            ".a :hover,.b > .c{content: \"  two  spaces \\\" \";margin: 0 auto;}@media (max-width: 600px){.d{gap: 4px}}"
        );
    }

    #[test]
    fn unterminated_comment_ends_the_sheet() {
        assert_eq!(minify_css(".a { b: c } /* open"), ".a{b: c}");
    }
}
