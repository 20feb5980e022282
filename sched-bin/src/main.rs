//! `placer`: run | explain | simulate | snapshot, with the in-tree plugins.

fn main() -> std::process::ExitCode {
    sched_bin::cli::main(Vec::new())
}
