//! Generates the C header `tardy.h` with cbindgen when the `capi` feature is
//! on; does nothing otherwise (no_std and embedded builds never run
//! cbindgen).
//!
//! The header goes to `$OUT_DIR/tardy.h`; `tests/c_abi.rs` fails when it
//! differs from the committed `include/tardy.h`. To update the committed
//! header, build with `TARDY_UPDATE_HEADER=1`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(feature = "capi")]
    {
        println!("cargo:rerun-if-changed=cbindgen.toml");
        println!("cargo:rerun-if-changed=src/ffi");
        println!("cargo:rerun-if-env-changed=TARDY_UPDATE_HEADER");
        header::generate();
    }
}

#[cfg(feature = "capi")]
mod header {
    use std::env;
    use std::path::PathBuf;

    /// The files under `src/ffi/` whose exports make up `tardy.h`, in the
    /// order of the header.
    const HEADER_SOURCES: [&str; 4] = ["types.rs", "status.rs", "threaded.rs", "api.rs"];

    /// Writes `$OUT_DIR/tardy.h`. A failure is a build warning, not an
    /// error: the header drift test reports the missing file.
    pub fn generate() {
        match std::panic::catch_unwind(try_generate) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => println!("cargo:warning=tardy.h was not generated: {e}"),
            Err(_) => println!("cargo:warning=tardy.h was not generated: cbindgen panicked"),
        }
    }

    fn try_generate() -> Result<(), Box<dyn std::error::Error>> {
        let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
        let out = PathBuf::from(env::var("OUT_DIR")?).join("tardy.h");
        let version = env::var("CARGO_PKG_VERSION")?;
        let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))?;
        config.after_includes = Some(version_macros(&version));
        // Only the sources of the threaded C ABI: the rest of the crate is
        // no C API and cbindgen need not understand it, and cbindgen does
        // not evaluate `cfg`, so other builds' exports (the bare-metal one)
        // must not be read here.
        let ffi = crate_dir.join("src").join("ffi");
        let mut builder = cbindgen::Builder::new();
        for file in HEADER_SOURCES {
            builder = builder.with_src(ffi.join(file));
        }
        builder.with_config(config).generate()?.write_to_file(&out);
        if env::var_os("TARDY_UPDATE_HEADER").is_some_and(|v| v == "1") {
            std::fs::copy(&out, crate_dir.join("include").join("tardy.h"))?;
        }
        Ok(())
    }

    fn version_macros(version: &str) -> String {
        let mut parts = version.split(['.', '-', '+']);
        let mut next = || parts.next().unwrap_or("0").to_owned();
        let (major, minor, patch) = (next(), next(), next());
        format!(
            "\n/* The version of tardy this header belongs to; tardy_version() is the\n \
             * version of the library linked. */\n\
             #define TARDY_VERSION \"{version}\"\n\
             /* The major part of TARDY_VERSION. */\n\
             #define TARDY_VERSION_MAJOR {major}\n\
             /* The minor part of TARDY_VERSION. */\n\
             #define TARDY_VERSION_MINOR {minor}\n\
             /* The patch part of TARDY_VERSION. */\n\
             #define TARDY_VERSION_PATCH {patch}\n"
        )
    }
}
