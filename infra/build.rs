//! Embeds the web client (`web/`) into confer-local, so that `confer-local serve` serves the
//! console at `/` from the same port on a fresh clone.
//!
//! When `web/dist` is missing or older than the client's sources, this runs `npm ci` (only when
//! `node_modules` is missing or older than the lock file) and `npm run build` in `web/`, then
//! copies `web/dist` into `OUT_DIR` with a table of its files (`include_bytes!`).
//! `CONFER_SKIP_WEB_BUILD=1` builds without the console (the server then says so at `/`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// What the build reads; a change to any of them builds the client again.
const SOURCES: &[&str] = &["src", "public", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json"];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let web = manifest.parent().expect("infra/ sits in the workspace").join("web");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("web_assets.rs");
    println!("cargo:rerun-if-env-changed=CONFER_SKIP_WEB_BUILD");
    for source in SOURCES {
        println!("cargo:rerun-if-changed={}", web.join(source).display());
    }
    let dist = web.join("dist");
    let skip = std::env::var("CONFER_SKIP_WEB_BUILD").map(|v| !v.is_empty() && v != "0").unwrap_or(false);
    if !skip && web.join("package.json").exists() && stale(&web, &dist) {
        build(&web);
    }
    let files = if skip && !dist.join("index.html").exists() { Vec::new() } else { files_of(&dist) };
    if !skip && files.is_empty() {
        panic!("{} holds no built client after `npm run build`", dist.display());
    }
    // The build is copied next to the table, so the binary builds from what this run saw even
    // if web/dist is deleted or rebuilt later (web/dist itself is not watched: this script writes it).
    let copies = out.with_file_name("web");
    let _ = std::fs::remove_dir_all(&copies);
    let mut table = String::from("/// Every file of the built web client: its path under web/dist and its bytes.\n");
    table.push_str("pub static ASSETS: &[(&str, &[u8])] = &[\n");
    for (name, path) in &files {
        let copy = copies.join(name);
        std::fs::create_dir_all(copy.parent().expect("a file has a folder"))
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", copies.display()));
        std::fs::copy(path, &copy).unwrap_or_else(|e| panic!("cannot copy {}: {e}", path.display()));
        table.push_str(&format!("    ({name:?}, include_bytes!({:?})),\n", copy.display().to_string()));
    }
    table.push_str("];\n");
    std::fs::write(&out, table).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}

/// The built client is missing, or older than something it is built from.
fn stale(web: &Path, dist: &Path) -> bool {
    let Some(built) = modified(&dist.join("index.html")) else { return true };
    SOURCES.iter().filter_map(|s| newest(&web.join(s))).any(|t| t > built)
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The newest modification time of a file, or of anything under a folder.
fn newest(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    let own = meta.modified().ok();
    if !meta.is_dir() {
        return own;
    }
    let children = std::fs::read_dir(path).ok()?.filter_map(Result::ok).filter_map(|e| newest(&e.path()));
    children.chain(own).max()
}

fn build(web: &Path) {
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    if Command::new(npm).arg("--version").output().map(|o| !o.status.success()).unwrap_or(true) {
        panic!(
            "\n\nconfer-local serves the web console, built from web/ with Node.js (20.19 or newer) and npm, \
             and `npm` was not found.\nInstall Node.js 20.19 or newer with npm, \
             or build without the console: CONFER_SKIP_WEB_BUILD=1 cargo build ...\n\n"
        );
    }
    let lock = modified(&web.join("package-lock.json"));
    let installed = modified(&web.join("node_modules/.package-lock.json"));
    if installed.is_none() || lock > installed {
        run(web, npm, &["ci", "--no-audit", "--no-fund"]);
    }
    run(web, npm, &["run", "build"]);
}

fn run(web: &Path, npm: &str, args: &[&str]) {
    let output = Command::new(npm)
        .args(args)
        .current_dir(web)
        .output()
        .unwrap_or_else(|e| panic!("cannot run npm {} in {}: {e}", args.join(" "), web.display()));
    if !output.status.success() {
        panic!(
            "\n\n`npm {}` in {} failed ({}):\n{}\n{}\n",
            args.join(" "),
            web.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Every file under `dir`, as (path relative to it with `/`, absolute path), sorted.
fn files_of(dir: &Path) -> Vec<(String, PathBuf)> {
    fn walk(root: &Path, dir: &Path, into: &mut Vec<(String, PathBuf)>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, into);
            } else if let Ok(relative) = path.strip_prefix(root) {
                let name = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                let absolute = path.canonicalize().unwrap_or(path.clone());
                into.push((name, absolute));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    files.sort();
    files
}
