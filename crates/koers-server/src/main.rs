use std::io::IsTerminal as _;
use std::process::ExitCode;

use koers_server::{Config, StartupError};

fn main() -> ExitCode {
    init_tracing();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => return fail(&err),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(source) => return fail(&StartupError::Runtime(source)),
    };
    // `koers-server add-organisation <name>`: another organisation on this server, and the
    // link for its first administrator.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("add-organisation") {
        let name = args[1..].join(" ");
        return match runtime.block_on(koers_server::add_organisation_from(&config, &name)) {
            Ok(link) => {
                println!("Organisation {name:?} added. Open {link} to set up the first account (an administrator's; the link works once, for 7 days).");
                ExitCode::SUCCESS
            }
            Err(err) => fail(&err),
        };
    }
    match runtime.block_on(koers_server::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&err),
    }
}

fn fail(err: &StartupError) -> ExitCode {
    eprintln!("{err}");
    ExitCode::from(err.exit_code())
}

/// Logs go to stdout; `KOERS_LOG` (error, warn, info, debug, trace) sets the level, default info.
fn init_tracing() {
    let level = std::env::var("KOERS_LOG")
        .ok()
        .and_then(|value| value.trim().parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal())
        .try_init();
}
