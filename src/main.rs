//! The `botcadence` binary: parse the command line, hand over to `cli`.

// mimalloc: the ingest path allocates many small, short-lived buffers; glibc's malloc spent a
// tenth of the CPU there under load (perf), mimalloc much less.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    botcadence::cli::main()
}
