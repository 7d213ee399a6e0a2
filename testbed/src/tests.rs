//! The servers start, answer, and survive their faults: Redis killed and restarted, Postgres
//! stopped and started again on the same port with its data.

use super::{Postgres, Redis};
use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

/// Set for the child that [`servers_do_not_outlive_a_test_that_dies`] runs.
const LEAK: &str = "TESTBED_LEAK_AND_ABORT";

#[test]
fn postgres_and_redis_start_fail_and_come_back() {
    let mut pg = Postgres::start().unwrap();
    let mut redis = Redis::start().unwrap();

    assert_eq!(pg.psql("tandem", "SELECT 1").unwrap(), "1");
    assert_eq!(
        pg.url(),
        format!("postgres://tandem@127.0.0.1:{}/tandem", pg.port())
    );
    let other = pg.create_database("other_db").unwrap();
    assert!(other.ends_with("/other_db"), "{other}");
    pg.psql(
        "other_db",
        "CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)",
    )
    .unwrap();
    assert!(pg.create_database("bad-name").is_err());
    assert!(pg.pid().is_some());

    assert!(redis.ping());
    assert_eq!(redis.url(), format!("redis://127.0.0.1:{}/", redis.port()));
    let (port, before) = (redis.port(), redis.pid().unwrap());
    redis.restart().unwrap();
    assert!(redis.ping());
    assert_eq!(redis.port(), port, "same port");
    assert_ne!(redis.pid(), Some(before), "a new process");
    redis.kill();
    assert!(!redis.ping());
    assert_eq!(redis.pid(), None);
    redis.kill(); // idempotent
    redis.restart().unwrap();
    assert!(redis.ping());

    let url = pg.url();
    pg.stop();
    assert!(pg.psql("tandem", "SELECT 1").is_err(), "stopped");
    assert_eq!(pg.pid(), None);
    pg.stop(); // idempotent
    pg.start_again().unwrap();
    pg.start_again().unwrap(); // idempotent
    assert_eq!(pg.url(), url, "same port");
    assert_eq!(
        pg.psql("other_db", "SELECT n FROM kept").unwrap(),
        "7",
        "same data"
    );
}

#[test]
fn dropping_stops_the_servers_and_removes_their_files() {
    let pg = Postgres::start().unwrap();
    let redis = Redis::start().unwrap();
    let (pg_pid, redis_port) = (pg.pid().unwrap(), redis.port());
    let dir = pg.data_dir();
    drop(pg);
    drop(redis);
    assert!(!dir.exists(), "temp dir removed");
    assert!(!alive(pg_pid), "postmaster {pg_pid} is gone");
    assert!(!super::redis::ping(redis_port));
}

/// Whether `pid` is a live process: it exists and is not a zombie (an orphan's parent, PID 1,
/// may never reap it).
fn alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "pid (comm) S ...": the state follows the command's closing parenthesis.
    let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
    !state.is_some_and(|rest| rest.starts_with('Z'))
}

/// What a test killed before it could drop its servers leaves behind: nothing, once the
/// watchdogs have seen it die.
#[test]
fn servers_do_not_outlive_a_test_that_dies() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "tests::start_servers_and_abort",
            "--ignored",
            "--nocapture",
        ])
        .args(["--test-threads", "1"])
        .env(LEAK, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let line = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(Result::unwrap)
        // After the harness's "test … " on the same line.
        .find_map(|line| line.find("leaked ").map(|at| line[at..].to_owned()))
        .expect("the child started its servers");
    child.wait().unwrap();
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [_, pg_pid, pg_dir, redis_pid, redis_dir] = fields[..] else {
        panic!("{line}");
    };
    let gone = crate::proc::wait_until(Duration::from_secs(10), || {
        [pg_pid, redis_pid]
            .iter()
            .all(|pid| !alive(pid.parse().unwrap()))
            && !Path::new(pg_dir).exists()
            && !Path::new(redis_dir).exists()
    });
    assert!(gone, "{line}: servers stopped, dirs removed");
}

/// The child of [`servers_do_not_outlive_a_test_that_dies`]: starts both servers, says
/// which, and dies without dropping them. Does nothing unless run by it.
#[test]
#[ignore = "run by servers_do_not_outlive_a_test_that_dies"]
fn start_servers_and_abort() {
    if std::env::var_os(LEAK).is_none() {
        return;
    }
    let (pg, redis) = (Postgres::start().unwrap(), Redis::start().unwrap());
    println!(
        "leaked {} {} {} {}",
        pg.pid().unwrap(),
        pg.data_dir().parent().unwrap().display(),
        redis.pid().unwrap(),
        redis.dir().display()
    );
    std::process::abort();
}
