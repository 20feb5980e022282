//! Placer's `placer` command line with one more plugin: all it takes to ship your own build.

fn main() -> std::process::ExitCode {
    sched_bin::cli::main(vec![placer_label_preference::SPEC])
}
