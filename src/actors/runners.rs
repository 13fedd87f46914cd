//! The runners: the threads executions run on, as many as the cores. By default
//! (`[engine] workers = 0`) they are the main runtime's worker threads, shared with the
//! dispatcher, the refill and the actors: one thread per core, and no hop between runtimes
//! for every execution (a runtime of its own cost ~10 µs of CPU per queued event and ~9 % of
//! the queued completions on 2 cores, `load-tests/queued_cpu.py`). With `workers = N` executions
//! get a runtime of their own with N threads, so a CPU-heavy step (a template that renders
//! for seconds) can never hold up routing and refilling either. The HTTP workers are actix's
//! own threads in both cases: no execution ever runs on them.

use tokio::runtime::{Builder, Handle, Runtime};

pub struct Runners {
    /// Taken on drop: a runtime must be shut down without blocking when the last handle to
    /// the engine goes away inside async code.
    runtime: Option<Runtime>,
    handle: Handle,
}

impl Runners {
    /// `workers` threads of their own; 0 = the current runtime's (one per core).
    pub fn start(workers: usize) -> std::io::Result<Runners> {
        if workers == 0 {
            return Ok(Runners {
                runtime: None,
                handle: Handle::current(),
            });
        }
        let runtime = Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("botcadence-runner")
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        Ok(Runners {
            runtime: Some(runtime),
            handle,
        })
    }

    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for Runners {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
