//! The C ABI from C: builds `libtardy.a` and `libtardy.so` with
//! `cargo rustc --features capi --crate-type staticlib,cdylib` (in its own
//! target directory), checks that the committed `include/tardy.h` is the
//! header the build generates, compiles the header as C++, and builds and
//! runs every C host under `c/` against both libraries, plainly and under
//! AddressSanitizer + UndefinedBehaviorSanitizer, and the C stress test
//! `c/stress_api.c` plainly. `c/certificates.c` takes its count from
//! `TARDY_CERTS` (default 20 000):
//!
//! ```text
//! TARDY_CERTS=1000000 cargo test --features capi --test c_abi certificates -- --nocapture
//! ```
//!
//! Needs `cc` and `c++` (gcc or clang) with their sanitizer runtimes
//! (Debian: `gcc g++ libasan8 libubsan1`, pulled in by `gcc`/`g++`); a
//! missing runtime fails the test, it is never skipped.

#![cfg(not(miri))] // runs a C compiler and C programs

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
const C_FLAGS: &[&str] = &["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"];
const CXX_FLAGS: &[&str] = &["-std=c++11", "-Wall", "-Wextra", "-Werror", "-pedantic"];
const SANITIZE: &[&str] = &[
    "-fsanitize=address,undefined",
    "-fno-omit-frame-pointer",
    "-fno-sanitize-recover=all",
    "-g",
];

/// What the library build produced.
struct Libs {
    static_lib: PathBuf,
    shared_dir: PathBuf,
    /// The system libraries a static link needs (rustc's
    /// `native-static-libs`).
    native_libs: Vec<String>,
    /// The header the build generated.
    generated_header: PathBuf,
    /// Where the C programs go.
    out_dir: PathBuf,
}

fn libs() -> &'static Libs {
    static LIBS: OnceLock<Libs> = OnceLock::new();
    LIBS.get_or_init(build_libs)
}

fn build_libs() -> Libs {
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-abi");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(MANIFEST_DIR)
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("TARDY_UPDATE_HEADER")
        .args([
            "rustc",
            "--lib",
            "--release",
            "--features",
            "capi",
            "--crate-type",
            "staticlib,cdylib",
            "--message-format",
            "json-render-diagnostics",
            "--",
            "--print",
            "native-static-libs",
        ])
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "library build failed:\n{stderr}");

    let mut static_lib = None;
    let mut shared = None;
    let mut header_dir = None;
    for line in stdout.lines() {
        if line.contains("\"reason\":\"compiler-artifact\"") && line.contains("libtardy.") {
            for name in json_strings(line, "\"filenames\":[") {
                if name.ends_with("libtardy.a") {
                    static_lib = Some(PathBuf::from(&name));
                } else if name.ends_with("libtardy.so") {
                    shared = Some(PathBuf::from(&name));
                }
            }
        }
        if line.contains("\"reason\":\"build-script-executed\"")
            && line.contains("\"package_id\":\"path+file://")
        {
            header_dir = json_strings(line, "\"out_dir\":").into_iter().next();
        }
    }
    // The note is on stderr (rendered diagnostics); a fresh build replays it.
    let native_libs = stderr
        .lines()
        .chain(stdout.lines())
        .find_map(|l| l.split("native-static-libs: ").nth(1))
        .map(|libs| {
            libs.split_whitespace()
                .map(|s| s.trim_end_matches(['"', '\\', 'n']).to_owned())
                .filter(|s| s.starts_with("-l"))
                .collect()
        })
        .unwrap_or_else(|| {
            [
                "-lgcc_s",
                "-lutil",
                "-lrt",
                "-lpthread",
                "-lm",
                "-ldl",
                "-lc",
            ]
            .map(String::from)
            .to_vec()
        });
    let static_lib = static_lib.expect("libtardy.a built");
    let shared = shared.expect("libtardy.so built");
    let header_dir = header_dir.expect("build script ran");
    let out_dir = target_dir.join("c-programs");
    std::fs::create_dir_all(&out_dir).expect("output directory");
    Libs {
        static_lib,
        shared_dir: shared.parent().expect("directory").to_owned(),
        native_libs,
        generated_header: Path::new(&header_dir).join("tardy.h"),
        out_dir,
    }
}

/// The string values following `key` in one line of cargo's JSON: one
/// string, or every string of a list when `key` ends with `[` (the paths
/// here contain no escaped quotes).
fn json_strings(line: &str, key: &str) -> Vec<String> {
    let Some(start) = line.find(key) else {
        return Vec::new();
    };
    let list = key.ends_with('[');
    let mut rest = &line[start + key.len()..];
    let mut found = Vec::new();
    while let Some(open) = rest.find('"') {
        if list && rest.find(']').is_some_and(|end| end < open) {
            break;
        }
        let value = &rest[open + 1..];
        let Some(close) = value.find('"') else { break };
        found.push(value[..close].to_owned());
        rest = &value[close + 1..];
        if !list {
            break;
        }
    }
    found
}

fn run(cmd: &mut Command) -> Output {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        output.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[derive(Clone, Copy, Debug)]
enum Link {
    Static,
    Shared,
}

/// Compiles `c/<name>.c` against the library, links it `link`, with or
/// without sanitizers; returns the program.
fn compile(name: &str, link: Link, sanitize: bool) -> PathBuf {
    let suffix = match (link, sanitize) {
        (Link::Static, false) => "static",
        (Link::Shared, false) => "shared",
        (Link::Static, true) => "static-san",
        (Link::Shared, true) => "shared-san",
    };
    let src = Path::new(MANIFEST_DIR).join("c").join(format!("{name}.c"));
    compile_file(&src, &format!("{name}-{suffix}"), link, sanitize)
}

/// Compiles the C file `src` into the program `exe_name` in the output
/// directory.
fn compile_file(src: &Path, exe_name: &str, link: Link, sanitize: bool) -> PathBuf {
    let libs = libs();
    let exe = libs.out_dir.join(exe_name);
    let mut cc = Command::new("cc");
    cc.args(C_FLAGS)
        .arg(format!("-I{MANIFEST_DIR}/include"))
        .arg(src)
        .arg("-o")
        .arg(&exe)
        .arg("-pthread");
    if sanitize {
        cc.args(SANITIZE);
    }
    match link {
        Link::Static => {
            cc.arg(&libs.static_lib).args(&libs.native_libs);
        }
        Link::Shared => {
            cc.arg(format!("-L{}", libs.shared_dir.display()))
                .arg("-ltardy")
                .arg(format!("-Wl,-rpath,{}", libs.shared_dir.display()));
        }
    }
    run(&mut cc);
    exe
}

/// Builds and runs `c/<name>.c` four ways (static, shared, each with and
/// without sanitizers); every run must exit 0, print `<name>: ok`, and
/// leave no sanitizer report.
fn host(name: &str) {
    for sanitize in [false, true] {
        for link in [Link::Static, Link::Shared] {
            let exe = compile(name, link, sanitize);
            let output = run(Command::new(&exe)
                .env("ASAN_OPTIONS", "abort_on_error=1:detect_leaks=1")
                .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1"));
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                stdout.contains(&format!("{name}: ok")),
                "{name} ({link:?}, sanitize {sanitize}) printed:\n{stdout}\n{stderr}"
            );
            for report in ["AddressSanitizer", "runtime error", "LeakSanitizer"] {
                assert!(
                    !stderr.contains(report),
                    "{name}: sanitizer report:\n{stderr}"
                );
            }
            eprintln!("{name} ({link:?}, sanitize {sanitize}): {}", stdout.trim());
        }
    }
}

#[test]
fn committed_header_is_the_generated_one() {
    for header in ["tardy.h", "tardy_baremetal.h"] {
        let generated = std::fs::read_to_string(libs().generated_header.with_file_name(header))
            .unwrap_or_else(|_| panic!("the build generated {header} (see the build warnings)"));
        let committed =
            std::fs::read_to_string(Path::new(MANIFEST_DIR).join("include").join(header))
                .unwrap_or_else(|_| panic!("include/{header} exists"));
        assert!(
            generated == committed,
            "include/{header} is stale: regenerate it with \
             `TARDY_UPDATE_HEADER=1 cargo build --features capi` and commit it"
        );
    }
}

#[test]
fn header_compiles_as_cpp() {
    let libs = libs();
    let exe = libs.out_dir.join("header_check");
    run(Command::new("c++")
        .args(CXX_FLAGS)
        .arg(format!("-I{MANIFEST_DIR}/include"))
        .arg(Path::new(MANIFEST_DIR).join("c/header_check.cpp"))
        .arg("-o")
        .arg(&exe)
        .arg(format!("-L{}", libs.shared_dir.display()))
        .arg("-ltardy")
        .arg(format!("-Wl,-rpath,{}", libs.shared_dir.display())));
    run(&mut Command::new(&exe));
}

#[test]
fn sanitizer_runtime_is_installed() {
    // Fails loudly, never skips: the hosts below need it.
    let dir = &libs().out_dir;
    let src = dir.join("san_probe.c");
    std::fs::write(&src, "int main(void) { return 0; }\n").expect("write probe");
    let output = Command::new("cc")
        .args(SANITIZE)
        .arg(&src)
        .arg("-o")
        .arg(dir.join("san_probe"))
        .output()
        .expect("cc runs");
    assert!(
        output.status.success(),
        "cc cannot build with -fsanitize=address,undefined; install the sanitizer \
         runtimes (Debian: apt-get install gcc g++ libasan8 libubsan1):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn c_test_program_covers_the_api() {
    host("test_api");
}

#[test]
fn embedded_host_drives_time_itself() {
    host("embedded_host");
}

#[test]
fn threaded_host_delivers_or_hands_back_everything() {
    host("threaded_host");
}

/// `c/certificates.c`: the renewal of many certificates scheduled
/// through `tardy_new` with its defaults (a scheduler that grows), each
/// delivered exactly once; plainly and under the sanitizers. 20 000 by
/// default; `TARDY_CERTS=1000000` for a million.
#[test]
fn certificates_through_the_defaults_are_each_delivered_once() {
    host("certificates");
}

/// `c/stress_api.c`: many threads call every function at once; every
/// task's `user_data` must come back exactly once. Plain here (static
/// link, no sanitizer, the default 20 000 tasks); `c/stress_sanitized.sh`
/// runs it under ThreadSanitizer.
#[test]
fn stress_every_task_comes_back_exactly_once() {
    let exe = compile("stress_api", Link::Static, false);
    let output = run(&mut Command::new(&exe));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("stress_api: ok"), "{stdout}");
    eprintln!("{}", stdout.trim());
}

#[test]
fn readme_c_example_compiles_and_runs() {
    let readme = std::fs::read_to_string(Path::new(MANIFEST_DIR).join("README.md")).unwrap();
    let section = readme
        .split("\n## C\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("README has a C section");
    let example = section
        .split("```c\n")
        .nth(1)
        .and_then(|s| s.split("\n```").next())
        .expect("the C section has a C example");
    let libs = libs();
    let src = libs.out_dir.join("readme_example.c");
    std::fs::write(&src, example).unwrap();
    let exe = compile_file(&src, "readme_example-shared", Link::Shared, false);
    let out = run(&mut Command::new(&exe));
    assert!(String::from_utf8_lossy(&out.stdout).contains("renew example.org (subject 42)"));
}
