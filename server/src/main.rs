//! `tandem-server`: parse the configuration, set up logging, bind, and [`tandem_server::run`]
//! until SIGINT or SIGTERM.

use clap::Parser;
use std::process::ExitCode;
use tandem_server::{run, Config, LogFormat};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

// The allocator is a build choice: jemalloc by default, tuned below; it holds an idle
// connection in less memory than glibc's malloc and, above all, gives back what leaving
// connections freed (README, "Benchmarks": all three measured fresh and after churn).
#[cfg(all(feature = "jemalloc", feature = "mimalloc"))]
compile_error!(
    "features `jemalloc` (a default) and `mimalloc` each choose the allocator: for mimalloc \
     build with `--no-default-features --features mimalloc`"
);
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
/// jemalloc's options (its `malloc_conf`, a C string): freed pages go back to the system
/// within a second, from a background thread, so that memory freed when connections leave
/// is not kept resident while new ones fill other pages.
#[cfg(feature = "jemalloc")]
#[used]
#[export_name = "_rjem_malloc_conf"]
static JEMALLOC_CONF: &u8 = &b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0"[0];
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    // Logs go to stderr; stdout carries only the line with the URL.
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        );
    match config.log_format {
        // One JSON object per line, the connection's span (its id and peer) in each.
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        LogFormat::Text => logs.init(),
    }
    let listener = match std::net::TcpListener::bind(config.listen) {
        Ok(l) => l,
        Err(err) => {
            tracing::error!(addr = %config.listen, %err, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    if let Ok(addr) = listener.local_addr() {
        println!("Tandem is running: open http://{addr}/");
    }
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    match run(listener, config, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(%err, "server failed");
            ExitCode::FAILURE
        }
    }
}

async fn stop_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("signal received");
    shutdown.cancel();
}
