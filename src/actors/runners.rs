//! The runners: the threads executions run on, a tokio runtime of their own sized from the
//! cores (`[engine] workers`). A CPU-heavy step (a template that renders for seconds) can only
//! take a runner, never the threads that serve HTTP, route work or refill it from the store.

use tokio::runtime::{Builder, Handle, Runtime};

pub struct Runners {
    /// Taken on drop: a runtime must be shut down without blocking when the last handle to
    /// the engine goes away inside async code.
    runtime: Option<Runtime>,
    handle: Handle,
}

impl Runners {
    /// `workers` threads; 0 = one per core.
    pub fn start(workers: usize) -> std::io::Result<Runners> {
        let threads = if workers == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            workers
        };
        let runtime = Builder::new_multi_thread()
            .worker_threads(threads)
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
