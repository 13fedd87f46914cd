//! The `botcadence` binary: parse the command line, hand over to `cli`.

// mimalloc: the ingest path allocates many small, short-lived buffers; glibc's malloc spent a
// tenth of the CPU there under load (perf), mimalloc much less. Counted per thread while a
// template render holds a memory budget (`alloc_budget`).
#[global_allocator]
static GLOBAL: botcadence::alloc_budget::Counting<mimalloc::MiMalloc> =
    botcadence::alloc_budget::Counting(mimalloc::MiMalloc);

unsafe extern "C" {
    /// mimalloc's own: returns freed pages to the system (`force`: from every thread's heap).
    fn mi_collect(force: bool);
}

fn main() -> std::process::ExitCode {
    // SAFETY: mi_collect only returns free pages; it is safe to call from any thread.
    botcadence::alloc_budget::set_release(|| unsafe { mi_collect(true) });
    botcadence::cli::main()
}
