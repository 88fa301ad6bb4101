//! Sync benchmark: the Koers server on a loopback port (a child process running this same
//! program, with a temporary data folder), driven over HTTP/1.1.
//!
//! (a) one device pushes 10,000 contact-moment operations in batches of 1000, another pulls them
//!     all (and applies them to its replica): time and operations per second;
//! (j) join: the generated year plan (`koers_core::year`, about 5,000 operations) is put on the
//!     server by its members' devices, then a new phone joins through an invite and pulls it all,
//!     page by page following the answer's `cursor`: time, requests, operations;
//! (b) 200 devices (20 plans of 10) sync at once for 30 s: push 1–5 operations, pull after their
//!     cursor, sleep 100–500 ms; requests, p50/p99 latency, errors, and the server's peak RSS.
//!
//! The server runs with its limits (`koers_server::limits`) in place, as in production, except
//! the rate limit on invite acceptance: the benchmark registers 190 devices from one address.
//!
//! Run: `cargo run --profile server -p koers-server --example sync_bench`
//! (`-- --quick` for a 5-second load phase).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use koers_core::*;
use serde_json::{json, Value};
use uuid::Uuid;

const BULK_OPS: usize = 10_000;
const BATCH: usize = 1000;
const PLANS: usize = 20;
const DEVICES_PER_PLAN: usize = 10;
const LOAD_SECS: u64 = 30;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--serve") {
        serve(&args[2], &args[3]);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(bench(if quick { 5 } else { LOAD_SECS }));
}

// ---------------------------------------------------------------------------------------------
// The server (child process)

/// Runs the server on a free loopback port and prints the port on stdout.
fn serve(data: &str, dist: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let config = koers_server::Config {
            addr: "127.0.0.1:0".parse().unwrap(),
            data_dir: data.into(),
            dist_dir: dist.into(),
            database_url: std::env::var("KOERS_DATABASE_URL").ok(),
            behind_proxy: false,
        };
        let limits = koers_server::limits::LimitsConfig {
            invite_accepts_per_address: 100_000,
            invite_accepts_per_prefix: 100_000,
            ..Default::default()
        };
        let header_read_timeout = limits.header_read_timeout;
        let app = koers_server::build_app_with_limits(&config, limits)
            .await
            .expect("the server starts");
        let listener = tokio::net::TcpListener::bind(config.addr).await.unwrap();
        println!("{}", listener.local_addr().unwrap().port());
        koers_server::limits::serve(
            listener,
            app,
            header_read_timeout,
            std::future::pending(),
            Duration::from_secs(1),
        )
        .await
        .unwrap();
    });
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(data: &Path, dist: &Path) -> Server {
    use std::io::BufRead as _;
    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg("--serve")
        .arg(data)
        .arg(dist)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the server process starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line.trim().parse().expect("the server prints its port");
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

/// `VmHWM` (peak resident set) and `VmRSS` of a process, in MiB.
fn memory_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

// ---------------------------------------------------------------------------------------------
// HTTP

struct Api {
    client: HttpClient,
    base: String,
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    json: Value,
}

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                Full::new(Bytes::from(serde_json::to_vec(body).unwrap()))
            }
            None => Full::new(Bytes::new()),
        };
        let response = self
            .client
            .request(request.body(body).unwrap())
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).map_err(|e| e.to_string())?
        };
        Ok(Reply { status, json })
    }

    /// A call that must answer `expected`.
    async fn expect(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        expected: StatusCode,
    ) -> Value {
        let reply = self.call(method.clone(), path, token, body).await.unwrap();
        assert_eq!(reply.status, expected, "{method} {path}: {}", reply.json);
        reply.json
    }
}

// ---------------------------------------------------------------------------------------------
// Plans and devices

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A small xorshift generator: enough for sleeps and op counts.
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        Rng(Uuid::new_v4().as_u64_pair().0 | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

/// A member writing on one registered device, with its own replica of the plan.
struct Device {
    plan: PlanId,
    token: String,
    author: Author,
    replica: Replica,
    view: Plan,
    cursor: i64,
    rng: Rng,
    /// The contact moment being logged and the fields of it still to write.
    moment: Option<(ContactMomentId, usize)>,
}

impl Device {
    fn new(plan: PlanId, member: MemberId, token: String) -> Self {
        let replica = Replica::new(plan);
        let view = Plan::from_replica(&replica);
        let mut rng = Rng::new();
        Device {
            plan,
            token,
            author: Author::new(member, NodeId(rng.next())),
            replica,
            view,
            cursor: 0,
            rng,
            moment: None,
        }
    }

    /// Pulls everything after the cursor into the replica; returns the number of requests.
    async fn pull(&mut self, api: &Api) -> Result<usize, String> {
        let mut requests = 0;
        loop {
            let path = format!("/api/plans/{}/ops?after={}", self.plan, self.cursor);
            let reply = api
                .call(Method::GET, &path, Some(&self.token), None)
                .await?;
            requests += 1;
            if reply.status != StatusCode::OK {
                return Err(format!("pull: {} {}", reply.status, reply.json));
            }
            for item in reply.json["ops"].as_array().into_iter().flatten() {
                let op: Op =
                    serde_json::from_value(item["op"].clone()).map_err(|e| e.to_string())?;
                let _ = self.replica.apply(&op);
            }
            // As the app does: continue from the answer's cursor, and keep it.
            self.cursor = reply.json["cursor"]
                .as_i64()
                .ok_or_else(|| format!("pull: no cursor in {}", reply.json))?;
            if reply.json["more"] != json!(true) {
                return Ok(requests);
            }
        }
    }

    /// Rebuilds the plan as this device sees it (members and roles, for local checks).
    fn refresh_view(&mut self) {
        self.view = Plan::from_replica(&self.replica);
    }

    /// The next field of a contact moment, as a real device would log it: when, kind, status,
    /// place, attendees, duration, rating and a note; then the next moment.
    fn next_op(&mut self) -> Op {
        let (moment, step) = match self.moment {
            Some((m, step)) if step < 8 => (m, step),
            _ => (ContactMomentId(Uuid::new_v4()), 0),
        };
        self.moment = Some((moment, step + 1));
        let n = self.rng.between(0, 1000);
        let (field, value) = match step {
            0 => {
                let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
                    + chrono::Days::new(n % 300);
                let at = day.and_hms_opt(9 + (n % 9) as u32, 0, 0).unwrap();
                (Field::At, json!(at))
            }
            1 => (Field::Kind, json!(ContactKind::ALL[(n % 5) as usize])),
            2 => (Field::Status, json!(ContactStatus::Happened)),
            3 => (Field::Place, json!(Some("Bij de pleeggezin thuis"))),
            4 => (
                Field::Attendees,
                json!([Role::Parent, Role::FosterParent, Role::Youth]),
            ),
            5 => (Field::DurationMinutes, json!(Some(30 + n % 120))),
            6 => (Field::Rating, json!(Rating::new(1 + (n % 5) as u8))),
            _ => (
                Field::Note,
                json!(Some(format!(
                    "Samen gegeten en een spelletje gedaan; afscheid ging goed (#{n})."
                ))),
            ),
        };
        let op = self
            .author
            .change(
                &self.replica,
                &self.view,
                OpId(Uuid::new_v4()),
                now_millis(),
                Edit::new(Entity::ContactMoment(moment), field, value),
            )
            .expect("a foster parent logs contact moments");
        let _ = self.replica.apply(&op);
        op
    }

    /// Pushes `ops`; every one must be accepted.
    async fn push(&mut self, api: &Api, ops: &[Op]) -> Result<(), String> {
        let path = format!("/api/plans/{}/ops", self.plan);
        let reply = api
            .call(
                Method::POST,
                &path,
                Some(&self.token),
                Some(&json!({ "ops": ops })),
            )
            .await?;
        if reply.status != StatusCode::OK {
            return Err(format!("push: {} {}", reply.status, reply.json));
        }
        let accepted = reply.json["accepted"].as_array().map_or(0, Vec::len);
        if accepted != ops.len() {
            return Err(format!(
                "push: {accepted} of {} accepted: {}",
                ops.len(),
                reply.json["refused"]
            ));
        }
        Ok(())
    }
}

/// Founds a plan (worker + `others` foster parents) and registers a device for every member.
async fn make_plan(api: &Api, others: usize) -> Vec<Device> {
    let plan = PlanId(Uuid::new_v4());
    let worker = MemberId(Uuid::new_v4());
    let mut clock = Clock::new(NodeId(Rng::new().next()));
    let now = now_millis();
    let mut ops = Vec::new();
    let mut set = |entity, field, value: Value| {
        ops.push(Op {
            id: OpId(Uuid::new_v4()),
            plan,
            hlc: clock.tick(now),
            author: worker,
            entity,
            field,
            value,
            supersedes: None,
        })
    };
    set(Entity::Member(worker), Field::Name, json!("Lotte de Vries"));
    set(
        Entity::Member(worker),
        Field::Role,
        json!(Role::FosterCareWorker),
    );
    let members: Vec<MemberId> = (0..others).map(|_| MemberId(Uuid::new_v4())).collect();
    for (n, m) in members.iter().enumerate() {
        set(
            Entity::Member(*m),
            Field::Name,
            json!(format!("Pleegouder {n}")),
        );
        set(Entity::Member(*m), Field::Role, json!(Role::FosterParent));
    }
    set(Entity::Plan, Field::ChildName, json!("Noa"));
    let created = api
        .expect(
            Method::POST,
            "/api/plans",
            None,
            Some(&json!({ "ops": ops, "device_name": "bench worker" })),
            StatusCode::CREATED,
        )
        .await;
    let worker_token = created["device_token"].as_str().unwrap().to_owned();
    let mut devices = vec![Device::new(plan, worker, worker_token.clone())];
    for m in members {
        let token = register(api, plan, &worker_token, m).await;
        devices.push(Device::new(plan, m, token));
    }
    for device in &mut devices {
        device.pull(api).await.unwrap();
        device.refresh_view();
    }
    devices
}

// ---------------------------------------------------------------------------------------------
// The benchmark

/// The year plan under a new plan id and new operation ids (so that it never collides with
/// another run), dated so that it ends before now.
fn fresh_year_plan() -> Vec<Op> {
    let start = chrono::Utc::now().date_naive() - chrono::Days::new(380);
    year::year_plan_with_ids(start, Uuid::new_v4)
}

/// A device for `member` of `plan`, through an invite by the worker.
async fn register(api: &Api, plan: PlanId, worker_token: &str, member: MemberId) -> String {
    let invite = api
        .expect(
            Method::POST,
            &format!("/api/plans/{plan}/invites"),
            Some(worker_token),
            Some(&json!({ "member": member })),
            StatusCode::CREATED,
        )
        .await;
    let accepted = api
        .expect(
            Method::POST,
            "/api/invites/accept",
            None,
            Some(&json!({ "code": invite["code"], "device_name": "bench" })),
            StatusCode::CREATED,
        )
        .await;
    accepted["device_token"].as_str().unwrap().to_owned()
}

/// Puts the year plan on the server as its members' devices would have sent it (in order, in
/// runs of one author, at most 1000 per request), then times a new phone of a parent pulling
/// all of it. Returns the plan's operation count, the pull's time and requests, and how many
/// operations the new phone holds.
async fn join_year_plan(api: &Api) -> (usize, Duration, usize, usize) {
    let ops = fresh_year_plan();
    let plan = ops[0].plan;
    let founder = ops[0].author;
    let founding = ops
        .iter()
        .take(BATCH)
        .take_while(|op| op.author == founder)
        .count();
    let created = api
        .expect(
            Method::POST,
            "/api/plans",
            None,
            Some(&json!({ "ops": &ops[..founding], "device_name": "bench worker" })),
            StatusCode::CREATED,
        )
        .await;
    let worker_token = created["device_token"].as_str().unwrap().to_owned();
    let mut tokens = std::collections::HashMap::from([(founder, worker_token.clone())]);
    let mut rest = &ops[founding..];
    while !rest.is_empty() {
        let author = rest[0].author;
        let run = rest
            .iter()
            .take(BATCH)
            .take_while(|op| op.author == author)
            .count();
        let (batch, later) = rest.split_at(run);
        if let std::collections::hash_map::Entry::Vacant(entry) = tokens.entry(author) {
            entry.insert(register(api, plan, &worker_token, author).await);
        }
        let answer = api
            .expect(
                Method::POST,
                &format!("/api/plans/{plan}/ops"),
                Some(&tokens[&author]),
                Some(&json!({ "ops": batch })),
                StatusCode::OK,
            )
            .await;
        assert_eq!(
            answer["accepted"].as_array().map_or(0, Vec::len),
            batch.len(),
            "every year-plan operation is accepted: {}",
            answer["refused"]
        );
        rest = later;
    }
    let view = Plan::from_replica(&Replica::from_ops(plan, &ops));
    let parent = view
        .members
        .iter()
        .find(|m| m.role == Role::Parent)
        .expect("the year plan has parents")
        .id;
    let token = register(api, plan, &worker_token, parent).await;
    let mut phone = Device::new(plan, parent, token);
    let started = Instant::now();
    let requests = phone.pull(api).await.expect("the new phone pulls the plan");
    let time = started.elapsed();
    (ops.len(), time, requests, phone.replica.op_count())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[derive(Default)]
struct LoadStats {
    latencies: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
    pushed: usize,
}

/// One device's load loop until `deadline`.
async fn device_loop(api: Arc<Api>, mut device: Device, deadline: Instant) -> LoadStats {
    let mut stats = LoadStats::default();
    let error = |stats: &mut LoadStats, e: String| {
        stats.errors += 1;
        stats.first_error.get_or_insert(e);
    };
    // Start at different moments, as real devices do.
    let offset = device.rng.between(0, 500);
    tokio::time::sleep(Duration::from_millis(offset)).await;
    while Instant::now() < deadline {
        let count = device.rng.between(1, 5) as usize;
        let ops: Vec<Op> = (0..count).map(|_| device.next_op()).collect();
        let started = Instant::now();
        match device.push(&api, &ops).await {
            Ok(()) => stats.pushed += count,
            Err(e) => error(&mut stats, e),
        }
        stats.latencies.push(started.elapsed());
        let started = Instant::now();
        match device.pull(&api).await {
            Ok(requests) => {
                let each = started.elapsed() / requests.max(1) as u32;
                stats.latencies.extend(std::iter::repeat_n(each, requests));
            }
            Err(e) => {
                stats.latencies.push(started.elapsed());
                error(&mut stats, e);
            }
        }
        let pause = device.rng.between(100, 500);
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
    stats
}

async fn bench(load_secs: u64) {
    let data = tempfile::tempdir().unwrap();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!DOCTYPE html><html><head><title>Koers</title></head><body></body></html>\n",
    )
    .unwrap();
    let server = start_server(data.path(), dist.path());
    let pid = server.child.id();
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: HttpClient = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(256)
        .build(connector);
    let api = Arc::new(Api {
        client,
        base: server.base.clone(),
    });
    println!("Koers sync benchmark: server pid {pid} at {}", server.base);
    println!(
        "machine: {} CPUs (server and load generator share them)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // (a) bulk push and pull.
    let mut devices = make_plan(&api, 1).await;
    // The foster parent logs, the worker reads.
    let mut writer = devices.pop().unwrap();
    let mut reader = devices.pop().unwrap();
    let ops: Vec<Op> = (0..BULK_OPS).map(|_| writer.next_op()).collect();
    let started = Instant::now();
    for batch in ops.chunks(BATCH) {
        writer.push(&api, batch).await.expect("bulk push");
    }
    let push_time = started.elapsed();
    let before = reader.cursor;
    let started = Instant::now();
    let pull_requests = reader.pull(&api).await.expect("bulk pull");
    let pull_time = started.elapsed();
    let pulled = reader.replica.op_count();
    assert!(reader.cursor - before >= BULK_OPS as i64, "pulled every op");
    let (hwm_a, _) = memory_mib(pid);

    println!();
    println!("(a) one device pushes {BULK_OPS} contact-moment operations, another pulls them");
    println!("+------------------------------+------------+--------------+------------+");
    println!("| step                         |   time (s) |       ops/s  |  requests  |");
    println!("+------------------------------+------------+--------------+------------+");
    println!(
        "| push, batches of {BATCH:<4}        | {:>10.3} | {:>12.0} | {:>10} |",
        push_time.as_secs_f64(),
        BULK_OPS as f64 / push_time.as_secs_f64(),
        BULK_OPS.div_ceil(BATCH)
    );
    println!(
        "| pull, pages of {BATCH:<4}          | {:>10.3} | {:>12.0} | {:>10} |",
        pull_time.as_secs_f64(),
        BULK_OPS as f64 / pull_time.as_secs_f64(),
        pull_requests
    );
    let total = push_time + pull_time;
    println!(
        "| push + pull                  | {:>10.3} | {:>12.0} | {:>10} |",
        total.as_secs_f64(),
        BULK_OPS as f64 / total.as_secs_f64(),
        BULK_OPS.div_ceil(BATCH) + pull_requests
    );
    println!("+------------------------------+------------+--------------+------------+");
    println!("reader's replica holds {pulled} operations; server peak RSS so far {hwm_a:.1} MiB");

    // (j) a new phone joins a year's plan.
    let (join_ops, join_time, join_requests, join_held) = join_year_plan(&api).await;
    println!();
    println!("(j) a new phone joins the year plan (koers_core::year): pulls every page, following the cursor");
    println!("+------------------------------+------------+--------------+------------+");
    println!("| step                         |   time (s) |       ops/s  |  requests  |");
    println!("+------------------------------+------------+--------------+------------+");
    println!(
        "| {:<28} | {:>10.3} | {:>12.0} | {:>10} |",
        format!("join: {join_ops} ops, all pages"),
        join_time.as_secs_f64(),
        join_ops as f64 / join_time.as_secs_f64(),
        join_requests
    );
    println!("+------------------------------+------------+--------------+------------+");
    println!("the new phone holds {join_held} of the plan's {join_ops} operations");
    assert_eq!(
        join_held, join_ops,
        "the joining phone holds every operation"
    );

    // (b) 200 devices at once.
    let setup = Instant::now();
    let mut all = Vec::with_capacity(PLANS * DEVICES_PER_PLAN);
    for _ in 0..PLANS {
        all.extend(make_plan(&api, DEVICES_PER_PLAN - 1).await);
    }
    let device_count = all.len();
    println!();
    println!(
        "(b) {device_count} devices in {PLANS} plans sync at once for {load_secs} s (set up in {:.1} s)",
        setup.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let deadline = started + Duration::from_secs(load_secs);
    let handles: Vec<_> = all
        .into_iter()
        .map(|device| tokio::spawn(device_loop(api.clone(), device, deadline)))
        .collect();
    let mut latencies = Vec::new();
    let (mut errors, mut pushed) = (0, 0);
    let mut first_error = None;
    for handle in handles {
        let stats = handle.await.expect("a device loop finishes");
        latencies.extend(stats.latencies);
        errors += stats.errors;
        pushed += stats.pushed;
        if first_error.is_none() {
            first_error = stats.first_error;
        }
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let (hwm, rss) = memory_mib(pid);
    let requests = latencies.len();
    println!("+------------------------------+----------------+");
    println!("| devices                      | {device_count:>14} |");
    println!(
        "| duration (s)                 | {:>14.1} |",
        elapsed.as_secs_f64()
    );
    println!("| requests                     | {requests:>14} |");
    println!(
        "| requests/s                   | {:>14.0} |",
        requests as f64 / elapsed.as_secs_f64()
    );
    println!("| operations pushed            | {pushed:>14} |");
    println!(
        "| latency p50 (ms)             | {:>14.2} |",
        ms(percentile(&latencies, 50.0))
    );
    println!(
        "| latency p99 (ms)             | {:>14.2} |",
        ms(percentile(&latencies, 99.0))
    );
    println!(
        "| latency max (ms)             | {:>14.2} |",
        ms(latencies.last().copied().unwrap_or_default())
    );
    println!("| errors                       | {errors:>14} |");
    println!("| server peak RSS, VmHWM (MiB) | {hwm:>14.1} |");
    println!("| server RSS at end (MiB)      | {rss:>14.1} |");
    println!("+------------------------------+----------------+");
    if let Some(e) = first_error {
        println!("first error: {e}");
    }
    drop(server);
    if errors > 0 {
        std::process::exit(1);
    }
}
