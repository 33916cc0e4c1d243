//! Builds the browser app and stages it for embedding in the `switchyard` binary.
//!
//! Steps: a nested `cargo build` of `switchyard-frontend` for wasm32 (own target dir, cleaned
//! environment), wasm-bindgen as a library (target `web`), optionally `wasm-opt -Oz` from npm's
//! binaryen, then content-hashed assets plus `index.html` in `$OUT_DIR/ui` and a generated table
//! `$OUT_DIR/ui_assets.rs` that `src/ui.rs` includes with `include_bytes!`, so every build —
//! debug included — carries the whole UI inside the binary. Every asset also gets a brotli and a
//! gzip copy made here once (kept when it saves at least a tenth), so the server never
//! compresses them per request; brotli at its best quality for a release build, at a quick one
//! for a debug build, whose wasm is ten times larger.
//!
//! Which wasm: a release build of this crate (cargo's `PROFILE` is `release`) builds the frontend
//! with the size-optimised `wasm-release` profile and runs wasm-opt; a debug build uses
//! `wasm-dev` (no LTO, incremental, no wasm-opt) so a frontend edit is quickly ready for a debug
//! test run. docs/build.md has the figures and the reasons.
//!
//! Environment switches:
//! - `SWITCHYARD_WASM_PROFILE=wasm-release|wasm-dev`: override the choice above.
//! - `SWITCHYARD_SKIP_UI=1`: skip the wasm step and embed a placeholder page (fast check/clippy).
//! - `SWITCHYARD_WASM_OPT=/path/to/wasm-opt`: the wasm-opt to use (npm binaryen >= 116);
//!   `SWITCHYARD_WASM_OPT=skip` builds without it. Default: `.tools/node_modules/.bin/wasm-opt`
//!   (installed by `scripts/setup-tools.sh`); without one the build warns and skips the step.
//! - `SWITCHYARD_WASM_TARGET_DIR`: target dir of the nested build (default `target/wasm`).

use std::{
    env,
    ffi::OsString,
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
    process::{exit, Command},
    time::Instant,
};

/// Stylesheets in cascade order: tokens first, then base, layout and per-area rules. A file in
/// `style/` that is not listed fails the build rather than being left out silently.
const STYLE_ORDER: &[&str] = &[
    "tokens.css",
    "base.css",
    "layout.css",
    "cards.css",
    "controls.css",
    "graph.css",
    "rollout.css",
];

const FRONTEND_PACKAGE: &str = "switchyard-frontend";
const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The size-optimised profile (fat LTO, `opt-level = "z"`), followed by wasm-opt.
const WASM_RELEASE: &str = "wasm-release";
/// The quick profile of debug builds (no LTO, incremental), without wasm-opt.
const WASM_DEV: &str = "wasm-dev";
/// The first npm binaryen release whose wasm-opt output runs in browsers (docs/build.md: Debian's
/// binaryen 108 emits wasm that fails at start-up).
const MIN_WASM_OPT: u32 = 116;

/// One file to embed, as the server will serve it.
struct Asset {
    /// URL path without the leading slash, e.g. `assets/app-0123abcd.js`.
    path: String,
    bytes: Vec<u8>,
    content_type: &'static str,
    /// Content-hashed names can be cached forever; everything else is revalidated.
    immutable: bool,
}

fn main() {
    for var in [
        "SWITCHYARD_SKIP_UI",
        "SWITCHYARD_WASM_OPT",
        "SWITCHYARD_WASM_TARGET_DIR",
        "SWITCHYARD_WASM_PROFILE",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let manifest_dir = PathBuf::from(env_or_die("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .parent()
        .unwrap_or_else(|| die("backend/ has no parent directory"))
        .to_path_buf();
    let out_dir = PathBuf::from(env_or_die("OUT_DIR"));

    // Only what the UI is made of: an edit to the backend must not rebuild the wasm. Cargo.lock
    // and the workspace manifest are here for dependency bumps and the wasm profiles.
    for input in ["frontend", "protocol", "style", "Cargo.lock", "Cargo.toml"] {
        println!("cargo:rerun-if-changed={}", workspace.join(input).display());
    }

    let assets = if env::var("SWITCHYARD_SKIP_UI").is_ok_and(|v| !v.is_empty() && v != "0") {
        placeholder()
    } else {
        build_ui(&workspace, &out_dir)
    };
    stage(&out_dir, &assets);
}

/// The page embedded when the UI build is skipped, so the server still answers `/` in words.
fn placeholder() -> Vec<Asset> {
    let html = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
        <title>Switchyard (UI not built)</title></head>\n<body><h1>Switchyard</h1>\
        <p>The browser app was not built into this binary (<code>SWITCHYARD_SKIP_UI</code> was \
        set). The API under <code>/api/v1/</code> works; rebuild without \
        <code>SWITCHYARD_SKIP_UI</code> for the UI.</p></body></html>\n";
    vec![Asset {
        path: "index.html".into(),
        bytes: html.as_bytes().to_vec(),
        content_type: "text/html; charset=utf-8",
        immutable: false,
    }]
}

fn build_ui(workspace: &Path, out_dir: &Path) -> Vec<Asset> {
    let target_dir = env::var_os("SWITCHYARD_WASM_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target").join("wasm"));
    let profile = wasm_profile();
    let wasm = build_wasm(workspace, &target_dir, profile);

    let started = Instant::now();
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen
        .input_path(&wasm)
        .out_name("switchyard")
        .typescript(false)
        // index.html passes the hashed wasm URL; the default `new URL(...)` would name the
        // unhashed file.
        .omit_default_module_path(true)
        .remove_name_section(true)
        .remove_producers_section(true);
    if let Err(error) = bindgen.web(true) {
        die(&format!("wasm-bindgen: {error:#}"));
    }
    let mut output = bindgen
        .generate_output()
        .unwrap_or_else(|error| die(&format!("wasm-bindgen on {}: {error:#}", wasm.display())));
    let bindgen_wasm = output.wasm_mut().emit_wasm();
    let js = output.js().to_owned();
    eprintln!("wasm-bindgen took {:.1} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    let wasm_bytes = if profile == WASM_RELEASE {
        optimize(workspace, out_dir, bindgen_wasm)
    } else {
        bindgen_wasm
    };
    eprintln!(
        "wasm-opt step took {:.1} s ({} bytes)",
        started.elapsed().as_secs_f64(),
        wasm_bytes.len()
    );

    let mut assets = Vec::new();
    // JS snippets from `#[wasm_bindgen(inline_js/module)]`, imported relative to the glue file.
    for (identifier, snippets) in output.snippets() {
        for (i, snippet) in snippets.iter().enumerate() {
            assets.push(Asset {
                path: format!("assets/snippets/{identifier}/inline{i}.js"),
                bytes: snippet.as_bytes().to_vec(),
                content_type: "text/javascript; charset=utf-8",
                immutable: false,
            });
        }
    }
    for (path, contents) in output.local_modules() {
        assets.push(Asset {
            path: format!("assets/snippets/{path}"),
            bytes: contents.as_bytes().to_vec(),
            content_type: "text/javascript; charset=utf-8",
            immutable: false,
        });
    }

    let css = stylesheet(workspace);
    let js_name = hashed("switchyard", js.as_bytes(), "js");
    let wasm_name = hashed("switchyard_bg", &wasm_bytes, "wasm");
    let css_name = hashed("style", css.as_bytes(), "css");
    // A separate module (rather than an inline script) keeps the page compatible with a strict
    // Content-Security-Policy: script-src 'self'.
    let boot = format!(
        "import init from './{js_name}';\n\
         const status = document.getElementById('boot-status');\n\
         init({{ module_or_path: new URL('./{wasm_name}', import.meta.url) }})\n\
         \x20 .then(() => status?.remove())\n\
         \x20 .catch((error) => {{\n\
         \x20   if (status) status.textContent = 'Switchyard could not start: ' + error;\n\
         \x20   throw error;\n\
         \x20 }});\n"
    );
    let boot_name = hashed("boot", boot.as_bytes(), "js");
    let index = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchyard</title>
<link rel="stylesheet" href="/assets/{css_name}">
<link rel="modulepreload" href="/assets/{js_name}">
<link rel="preload" href="/assets/{wasm_name}" as="fetch" type="application/wasm" crossorigin>
<script type="module" src="/assets/{boot_name}"></script>
</head>
<body>
<p id="boot-status" class="boot-status">Loading Switchyard…</p>
<noscript><p>Switchyard needs JavaScript and WebAssembly.</p></noscript>
</body>
</html>
"#
    );

    assets.push(Asset {
        path: "index.html".into(),
        bytes: index.into_bytes(),
        content_type: "text/html; charset=utf-8",
        immutable: false,
    });
    for (name, bytes, content_type) in [
        (
            boot_name,
            boot.into_bytes(),
            "text/javascript; charset=utf-8",
        ),
        (js_name, js.into_bytes(), "text/javascript; charset=utf-8"),
        (wasm_name, wasm_bytes, "application/wasm"),
        (css_name, css.into_bytes(), "text/css; charset=utf-8"),
    ] {
        assets.push(Asset {
            path: format!("assets/{name}"),
            bytes,
            content_type,
            immutable: true,
        });
    }
    assets
}

/// The nested build's profile: `SWITCHYARD_WASM_PROFILE` when set, else `wasm-release` for a
/// release build of this crate and `wasm-dev` for anything else.
fn wasm_profile() -> &'static str {
    match env::var("SWITCHYARD_WASM_PROFILE").ok().as_deref() {
        Some(WASM_RELEASE) => WASM_RELEASE,
        Some(WASM_DEV) => WASM_DEV,
        Some("") | None => {
            if env::var("PROFILE").is_ok_and(|profile| profile == "release") {
                WASM_RELEASE
            } else {
                WASM_DEV
            }
        }
        Some(other) => die(&format!(
            "SWITCHYARD_WASM_PROFILE={other}: expected {WASM_RELEASE} or {WASM_DEV}"
        )),
    }
}

/// Runs the nested cargo build and returns the path of the raw wasm.
fn build_wasm(workspace: &Path, target_dir: &Path, profile: &str) -> PathBuf {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .arg("build")
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .args(["-p", FRONTEND_PACKAGE, "--bin", FRONTEND_PACKAGE])
        .args(["--target", WASM_TARGET, "--profile", profile])
        // The outer cargo has already resolved (and if needed written) Cargo.lock; the nested
        // build must never rewrite it underneath.
        .arg("--locked")
        // The outer cargo holds the lock on its own target dir for the whole build.
        .arg("--target-dir")
        .arg(target_dir)
        .env("CARGO_TERM_COLOR", "never");
    clean_environment(&mut command);

    let started = Instant::now();
    let output = command
        .output()
        .unwrap_or_else(|error| die(&format!("could not run the nested cargo: {error}")));
    if !output.status.success() {
        die(&format!(
            "the nested wasm build of {FRONTEND_PACKAGE} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    // Visible with `cargo build -vv`; normal builds stay quiet on success.
    eprintln!(
        "nested wasm build ({profile}) took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    target_dir
        .join(WASM_TARGET)
        .join(profile)
        .join(format!("{FRONTEND_PACKAGE}.wasm"))
}

/// Drops what cargo sets for this build script, which would otherwise leak into the nested build
/// (host target, rustflags, our package's metadata, our OUT_DIR). Keeps cargo's home, network
/// and registry settings, and the jobserver so both builds share the machine's cores.
fn clean_environment(command: &mut Command) {
    const KEEP: &[&str] = &["CARGO_HOME", "CARGO_MAKEFLAGS", "CARGO_TERM_COLOR"];
    const KEEP_PREFIXES: &[&str] = &[
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
    ];
    const DROP: &[&str] = &[
        "CARGO",
        "RUSTC",
        "RUSTDOC",
        "RUSTC_LINKER",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "TARGET",
        "HOST",
        "OUT_DIR",
        "OPT_LEVEL",
        "PROFILE",
        "DEBUG",
        "NUM_JOBS",
    ];
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let cargo_var = key.starts_with("CARGO_")
            && !KEEP.contains(&key)
            && !KEEP_PREFIXES.iter().any(|prefix| key.starts_with(prefix));
        if cargo_var || key.starts_with("__CARGO") || DROP.contains(&key) {
            command.env_remove(key);
        }
    }
}

/// Shrinks the wasm with npm's wasm-opt when one is available; says so when it is not.
fn optimize(workspace: &Path, out_dir: &Path, wasm: Vec<u8>) -> Vec<u8> {
    let configured = env::var_os("SWITCHYARD_WASM_OPT").filter(|v| !v.is_empty());
    let tool = match configured {
        Some(value) if value == "skip" => return wasm,
        Some(value) => {
            let path = PathBuf::from(value);
            if !path.exists() {
                die(&format!(
                    "SWITCHYARD_WASM_OPT={} does not exist",
                    path.display()
                ));
            }
            path
        }
        None => {
            let default = workspace.join(".tools/node_modules/.bin/wasm-opt");
            if !default.exists() {
                println!(
                    "cargo:warning=wasm-opt not found at {}: the UI is embedded without it (about 8% \
                     larger, about the same gzipped). Run scripts/setup-tools.sh, then \
                     `touch style/tokens.css` to rebuild it.",
                    default.display()
                );
                return wasm;
            }
            // Picks up a reinstall or upgrade of the tool.
            println!("cargo:rerun-if-changed={}", default.display());
            default
        }
    };
    check_wasm_opt_version(&tool);

    let input = out_dir.join("bindgen.wasm");
    let optimized = out_dir.join("optimized.wasm");
    fs::write(&input, &wasm).unwrap_or_else(|e| die(&format!("writing {}: {e}", input.display())));
    // The features rustc enables by default for wasm32-unknown-unknown; wasm-opt must accept
    // them in the input and may use them in the output.
    let output = Command::new(&tool)
        .arg(&input)
        .arg("-o")
        .arg(&optimized)
        .args([
            "-Oz",
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-mutable-globals",
            "--enable-reference-types",
            "--enable-multivalue",
        ])
        .output()
        .unwrap_or_else(|e| die(&format!("could not run {}: {e}", tool.display())));
    if !output.status.success() {
        die(&format!(
            "{} failed ({}):\n{}",
            tool.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    fs::read(&optimized).unwrap_or_else(|e| die(&format!("reading {}: {e}", optimized.display())))
}

/// Refuses a wasm-opt older than 116, such as Debian's 108 whose output fails in the browser.
fn check_wasm_opt_version(tool: &Path) {
    let output = Command::new(tool)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| die(&format!("could not run {} --version: {e}", tool.display())));
    let text = String::from_utf8_lossy(&output.stdout);
    // "wasm-opt version 132 (version_132)"
    let version = text
        .split_whitespace()
        .skip_while(|word| *word != "version")
        .nth(1)
        .and_then(|v| v.split('.').next())
        .and_then(|v| v.parse::<u32>().ok());
    match version {
        Some(v) if v >= MIN_WASM_OPT => {}
        _ => die(&format!(
            "{} reports {:?}: need binaryen >= {MIN_WASM_OPT} from npm (Debian's 108 produces \
             wasm that fails in the browser); run scripts/setup-tools.sh",
            tool.display(),
            text.trim()
        )),
    }
}

/// Concatenates `style/*.css` in [`STYLE_ORDER`].
fn stylesheet(workspace: &Path) -> String {
    let style_dir = workspace.join("style");
    let mut present: Vec<String> = fs::read_dir(&style_dir)
        .unwrap_or_else(|e| die(&format!("reading {}: {e}", style_dir.display())))
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".css"))
        .collect();
    present.sort();
    if let Some(stray) = present
        .iter()
        .find(|name| !STYLE_ORDER.contains(&name.as_str()))
    {
        die(&format!(
            "style/{stray} is not in STYLE_ORDER in backend/build.rs; add it where it belongs \
             in the cascade"
        ));
    }
    let mut css = String::new();
    for name in STYLE_ORDER {
        let path = style_dir.join(name);
        let text = fs::read_to_string(&path)
            .unwrap_or_else(|e| die(&format!("reading {}: {e}", path.display())));
        if let Err(problem) = balanced(&text) {
            die(&format!("style/{name}: {problem}"));
        }
        let _ = writeln!(css, "/* {name} */\n{}", text.trim_end());
    }
    css
}

/// Whether a stylesheet's blocks close: an unclosed `{` swallows every rule after it in the
/// concatenated sheet (a merge once dropped one and unstyled most of the page), so it fails the
/// build, naming the line. Comments and strings are skipped; nothing else of CSS is checked.
fn balanced(css: &str) -> Result<(), String> {
    let mut open: Vec<usize> = Vec::new();
    let mut line = 1;
    let mut chars = css.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                    }
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            '"' | '\'' => {
                for d in chars.by_ref() {
                    if d == c || d == '\n' {
                        break;
                    }
                }
            }
            '{' => open.push(line),
            '}' if open.pop().is_none() => {
                return Err(format!("line {line}: `}}` closes nothing"));
            }
            _ => {}
        }
    }
    match open.last() {
        Some(at) => Err(format!("the block opened on line {at} is never closed")),
        None => Ok(()),
    }
}

/// `{stem}-{hash}.{extension}` with a content hash, so a changed file gets a new URL and the
/// old one can be cached forever.
fn hashed(stem: &str, bytes: &[u8], extension: &str) -> String {
    // FNV-1a: stable across Rust versions and machines (unlike std's hasher), no dependency.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{stem}-{:012x}.{extension}", hash >> 16)
}

/// Writes the assets under `$OUT_DIR/ui` and the table `src/ui.rs` includes.
fn stage(out_dir: &Path, assets: &[Asset]) {
    let ui_dir = out_dir.join("ui");
    // Start empty: assets of a previous build have other hashed names.
    if ui_dir.exists() {
        fs::remove_dir_all(&ui_dir)
            .unwrap_or_else(|e| die(&format!("clearing {}: {e}", ui_dir.display())));
    }
    let mut table = String::from(
        "// Generated by backend/build.rs: the embedded UI, one entry per served file.\n\
         pub(crate) static ASSETS: &[Asset] = &[\n",
    );
    for asset in assets {
        let path = ui_dir.join(&asset.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| die(&format!("creating {}: {e}", parent.display())));
        }
        fs::write(&path, &asset.bytes)
            .unwrap_or_else(|e| die(&format!("writing {}: {e}", path.display())));
        let etag = format!(
            "\"{}\"",
            hashed("", &asset.bytes, "").trim_matches(['-', '.'])
        );
        let copy = |compressed: Option<Vec<u8>>, extension: &str| match compressed {
            Some(compressed) => {
                let copy_path = ui_dir.join(format!("{}.{extension}", asset.path));
                fs::write(&copy_path, compressed)
                    .unwrap_or_else(|e| die(&format!("writing {}: {e}", copy_path.display())));
                format!(
                    "Some(include_bytes!({:?}))",
                    copy_path.display().to_string()
                )
            }
            None => "None".to_owned(),
        };
        let gzip = copy(worth_it(&asset.bytes, gzip(&asset.bytes)), "gz");
        let brotli = copy(worth_it(&asset.bytes, brotli(&asset.bytes)), "br");
        let _ = writeln!(
            table,
            "    Asset {{ path: {:?}, content_type: {:?}, immutable: {}, etag: {:?}, bytes: include_bytes!({:?}), gzip: {gzip}, brotli: {brotli} }},",
            asset.path,
            asset.content_type,
            asset.immutable,
            etag,
            path.display().to_string(),
        );
    }
    table.push_str("];\n");
    let table_path = out_dir.join("ui_assets.rs");
    fs::write(&table_path, table)
        .unwrap_or_else(|e| die(&format!("writing {}: {e}", table_path.display())));
}

/// A compressed copy only when it saves at least a tenth: worth a second copy in the binary
/// (already-compressed data is served as it is). Small files count too: the page's HTML and boot
/// script are on the critical path.
fn worth_it(bytes: &[u8], compressed: Option<Vec<u8>>) -> Option<Vec<u8>> {
    compressed.filter(|c| c.len() * 10 < bytes.len() * 9)
}

fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write as _;
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok()
}

/// Brotli quality 11 with a 16 MiB window for a release build (about a second for the release
/// wasm); 5 for anything else, whose unoptimised wasm would take a minute at 11.
fn brotli(bytes: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write as _;
    let quality = if env::var("PROFILE").is_ok_and(|p| p == "release") {
        11
    } else {
        5
    };
    let out = Vec::with_capacity(bytes.len() / 3);
    let mut encoder = brotli::CompressorWriter::new(out, 64 * 1024, quality, 24);
    encoder.write_all(bytes).ok()?;
    // Finishes the stream.
    Some(encoder.into_inner())
}

fn env_or_die(key: &str) -> OsString {
    env::var_os(key).unwrap_or_else(|| die(&format!("cargo did not set {key}")))
}

/// Fails the build with a message cargo shows in full.
fn die(message: &str) -> ! {
    eprintln!("error: {message}");
    exit(1)
}
