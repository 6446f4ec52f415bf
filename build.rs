//! Compiles every `bpf/*.bpf.c` into a libbpf skeleton in OUT_DIR (`<name>.skel.rs`).
//! The skeletons are `include!`d once, by `src/bpf.rs`; nothing generated is committed.
//! `bpf/test/*.bpf.c` (the host tier's wrappers around the modules' decision code) are
//! compiled the same way and included by the unit-test build only.
//!
//! Each object is built twice: as is, and with `SG_BPF_LOOP` defined (its
//! path walks run as `bpf_loop` callbacks, which the verifier checks once rather than
//! once per level). The two have the same maps, programs and globals, so one skeleton
//! serves both: its object bytes are chosen when it is opened (`bpf::object_bytes`),
//! the second where the kernel has bpf_loop (5.17+). A kernel without it refuses an
//! object that merely names a callback, even in code it would never run.

use std::env;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use libbpf_cargo::SkeletonBuilder;

fn main() {
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let arch = env::var("CARGO_CFG_TARGET_ARCH").expect("cargo sets CARGO_CFG_TARGET_ARCH");
    // The target's own vmlinux.h (vmlinux/x86_64, vmlinux/aarch64) and the define that
    // bpf_tracing.h reads for pt_regs (kprobes): the kernel's name for the architecture.
    let vmlinux_dir = PathBuf::from("vmlinux").join(&arch);
    let target_arch = match arch.as_str() {
        "x86_64" => "x86",
        "aarch64" => "arm64",
        other => panic!("no vmlinux.h and no BPF arch for target architecture {other}"),
    };

    // One call to clang_args: a second call would replace the first.
    let include_vmlinux = format!("-I{}", vmlinux_dir.display());
    let define_arch = format!("-D__TARGET_ARCH_{target_arch}");
    let clang_args = [include_vmlinux.as_str(), define_arch.as_str(), "-Ibpf", "-Wall", "-Werror", "-O2", "-g"];

    println!("cargo:rerun-if-changed=bpf");
    println!("cargo:rerun-if-changed={}", vmlinux_dir.display());

    let mut sources: Vec<PathBuf> = ["bpf", "bpf/test"]
        .into_iter()
        .flat_map(|dir| fs::read_dir(dir).unwrap_or_else(|err| panic!("read {dir}/: {err}")))
        .map(|entry| entry.expect("read bpf/ entry").path())
        .filter(|path| path.to_string_lossy().ends_with(".bpf.c"))
        .collect();
    sources.sort();

    for source in sources {
        let file_name = source.file_name().and_then(OsStr::to_str).expect("utf-8 file name");
        let name = file_name.trim_end_matches(".bpf.c");
        let skeleton = out_dir.join(format!("{name}.skel.rs"));
        SkeletonBuilder::new()
            .source(&source)
            .clang_args(clang_args)
            .build_and_generate(&skeleton)
            .unwrap_or_else(|err| panic!("compile {}: {err:#}", source.display()));
        add_loop_variant(&source, &skeleton, &out_dir.join(format!("{name}.loop.o")), &clang_args);
    }
}

/// Compile `source` again with `SG_BPF_LOOP` into `object`, and make the skeleton open
/// whichever of its two objects `bpf::object_bytes` picks.
fn add_loop_variant(source: &Path, skeleton: &Path, object: &Path, clang_args: &[&str]) {
    let mut args = clang_args.to_vec();
    args.push("-DSG_BPF_LOOP");
    SkeletonBuilder::new()
        .source(source)
        .obj(object)
        .clang_args(args)
        .build()
        .unwrap_or_else(|err| panic!("compile {} with SG_BPF_LOOP: {err:#}", source.display()));
    let generated = fs::read_to_string(skeleton).expect("read the generated skeleton");
    let opening = "ObjectSkeletonConfigBuilder::new(&DATA)";
    assert_eq!(
        generated.matches(opening).count(),
        1,
        "{}: the skeleton's object is not opened once",
        skeleton.display()
    );
    let patched = generated.replace(
        opening,
        &format!(
            "ObjectSkeletonConfigBuilder::new(crate::bpf::object_bytes(&DATA, include_bytes!({:?})))",
            object.display().to_string()
        ),
    );
    fs::write(skeleton, patched).expect("write the skeleton");
}
