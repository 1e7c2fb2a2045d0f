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
    /// (file, bytes, gzipped bytes)
    pub files: Vec<(String, u64, u64)>,
}

impl Bundle {
    pub fn gzipped_total(&self) -> u64 {
        self.files.iter().map(|f| f.2).sum()
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

/// Binds the Wasm and writes `dist/`: index.html, rollgate.css, pkg/ and a .gz of each
/// compressible file so the server can send precompressed bytes. A release bundle is
/// compressed with zopfli: slower, and about 5 % smaller than the best zlib level.
fn assemble(wasm: &Path, dist: &Path, thorough: bool) -> Result<Bundle> {
    let pkg = dist.join("pkg");
    if dist.exists() {
        fs::remove_dir_all(dist).map_err(|e| format!("could not clear {}: {e}", dist.display()))?;
    }
    fs::create_dir_all(&pkg).map_err(|e| format!("could not create {}: {e}", pkg.display()))?;

    eprintln!("$ wasm-bindgen --target web {}", wasm.display());
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(wasm)
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e}"))?
        .typescript(false)
        // Function names are for debuggers; they are over half of the raw module.
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate(&pkg)
        .map_err(|e| format!("wasm-bindgen: {e:#}"))?;

    let index = root().join("frontend/index.html");
    fs::copy(&index, dist.join("index.html"))
        .map_err(|e| format!("could not copy {}: {e}", index.display()))?;
    let css = stylesheet()?;
    let css = if thorough { minify_css(&css) } else { css };
    fs::write(dist.join("rollgate.css"), css)
        .map_err(|e| format!("could not write rollgate.css: {e}"))?;

    let mut files = Vec::new();
    for rel in [
        "index.html",
        "rollgate.css",
        "pkg/rollgate_frontend.js",
        "pkg/rollgate_frontend_bg.wasm",
    ] {
        let path = dist.join(rel);
        let bytes = fs::read(&path).map_err(|e| format!("{} is missing: {e}", path.display()))?;
        let gz = gzip(&bytes, thorough)?;
        fs::write(dist.join(format!("{rel}.gz")), &gz)
            .map_err(|e| format!("could not write {rel}.gz: {e}"))?;
        files.push((rel.to_string(), bytes.len() as u64, gz.len() as u64));
    }
    let bundle = Bundle {
        dist: dist.to_path_buf(),
        files,
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
        "total",
        "",
        kb(bundle.gzipped_total())
    );
    Ok(bundle)
}

pub fn kb(bytes: u64) -> f64 {
    bytes as f64 / 1000.0
}

/// The files of `style/` concatenated in name order, so the cascade order is the file order.
fn stylesheet() -> Result<String> {
    let dir = root().join("style");
    let mut names: Vec<PathBuf> = fs::read_dir(&dir)
        .map_err(|e| format!("could not read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "css"))
        .collect();
    names.sort();
    let mut css = String::new();
    for p in names {
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

fn gzip(bytes: &[u8], thorough: bool) -> Result<Vec<u8>> {
    if thorough {
        let mut out = Vec::new();
        zopfli::compress(
            zopfli::Options::default(),
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
        .arg("--dist")
        .arg(&bundle.dist)
        .args(args)
        .current_dir(root());
    exec(&mut cmd)
}

#[cfg(test)]
mod tests {
    use super::minify_css;

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
