#![no_main]

// The daemon's allocator wrapper, so render memory budgets hold here as in the daemon.
#[global_allocator]
static ALLOCATOR: botcadence::alloc_budget::Counting<std::alloc::System> =
    botcadence::alloc_budget::Counting(std::alloc::System);

libfuzzer_sys::fuzz_target!(|data: &[u8]| botcadence::fuzzing::record_codec(data));
