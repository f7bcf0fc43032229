//! A progress bar for imports, drawn only on a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sillage_import::Progress;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Polls import counters and draws them until dropped.
pub struct ImportProgress {
    bar: ProgressBar,
    task: tokio::task::JoinHandle<()>,
}

impl ImportProgress {
    /// Starts drawing `progress` on standard error when it is a terminal.
    pub fn start(progress: Arc<Progress>) -> Self {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(0), target);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let drawn = bar.clone();
        let task = tokio::spawn(async move {
            loop {
                drawn.set_length(progress.bytes_total.load(Ordering::Relaxed));
                drawn.set_position(progress.bytes_read.load(Ordering::Relaxed));
                drawn.set_message(format!(
                    "{} points",
                    progress.records.load(Ordering::Relaxed)
                ));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Self { bar, task }
    }
}

impl Drop for ImportProgress {
    fn drop(&mut self) {
        self.task.abort();
        self.bar.finish_and_clear();
    }
}
