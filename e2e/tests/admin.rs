//! The admin view (`/admin`), end to end in two real browsers: the operator's page refuses a
//! wrong key and unlocks with the right one; it shows Bob's room and connection as they
//! appear, and the room's message rate as a backend posts through the API (from the page,
//! with `fetch`); it makes the room read-only (Bob's page says so), kicks Bob from the room
//! (his page leaves it), and closes his connection — all without a reload.
//!
//! The page's contract here: `admin-key`, `admin-unlock`, `admin-error`, `admin-live`,
//! `admin-room` (`data-room`) with `room-members`, `room-rate`, `room-read-only`;
//! `admin-conn` (`data-user`) with `conn-kick`, `conn-close`.

use serde_json::{json, Value};
use tandem_e2e::{
    browser::Browser,
    scenario::{one_at_a_time, with_browsers, Shots},
    server::{dist_dir, TestServer},
    wait,
};

const KEY: &str = "admin-view-key-0123456789";

/// The admin page's tables as it shows them: `{rooms: {name: {members, rate, read_only}},
/// conns: [{user, rooms}], error, live}`.
async fn admin_view(who: &Browser) -> Value {
    who.eval(
        r#"const q = (el, id) => Array.from(el.querySelectorAll(`[data-testid="${id}"]`));
        const rooms = {};
        for (const r of q(document, "admin-room")) {
            rooms[r.dataset.room] = {
                members: Number(q(r, "room-members")[0].textContent),
                rate: Number(q(r, "room-rate")[0].textContent),
                read_only: q(r, "room-read-only-badge").length > 0,
            };
        }
        const conns = q(document, "admin-conn").map(c => ({
            id: c.dataset.conn, user: c.dataset.user, kicks: q(c, "conn-kick").map(k => k.dataset.room) }));
        const error = q(document, "admin-error").map(e => e.textContent)[0] || null;
        return { rooms, conns, error, live: q(document, "admin-live").length > 0 };"#,
        vec![],
    )
    .await
}

async fn wait_admin(who: &Browser, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    wait::until(what, wait::TIMEOUT, || admin_view(who), done).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_view_shows_rooms_live_and_acts_on_them() {
    let _serial = one_at_a_time().await;
    dist_dir();
    let shots = Shots::new("admin");
    let server = TestServer::start_with(|c| c.api_keys = vec![KEY.to_owned()]).await;
    with_browsers(&shots, &["operator", "bob"], async |b: &[Browser]| {
        let (op, bob) = (&b[0], &b[1]);
        op.goto(&server.url("/admin")).await;
        // A wrong key is refused, and the view stays locked.
        op.fill("admin-key", "not-the-key-at-all").await;
        op.click("admin-unlock").await;
        let v = wait_admin(op, "a wrong key refused", |v| v["error"].is_string()).await;
        assert!(!v["live"].as_bool().unwrap(), "{v}");
        op.fill("admin-key", KEY).await;
        op.click("admin-unlock").await;
        wait_admin(op, "unlocked", |v| v["live"] == true).await;
        shots.take("unlocked", &[op]).await;

        // Bob comes in: his room and connection appear without a reload.
        bob.join_room(&server.url(""), "ops", "Bob").await;
        let v = wait_admin(op, "Bob's room and connection", |v| {
            v["rooms"]["ops"]["members"] == 1
                && v["conns"].as_array().unwrap().iter().any(|c| c["kicks"] == json!(["ops"]))
        })
        .await;
        let bob_conn = v["conns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kicks"] == json!(["ops"]))
            .unwrap()["id"]
            .clone();
        // A backend posts through the API: Bob sees it, the rate moves.
        let posted: Value = op
            .eval(
                "return fetch('/api/rooms/ops/messages', {method: 'POST', headers: {
                    'Authorization': 'Bearer ' + arguments[0], 'Content-Type': 'application/json'},
                    body: JSON.stringify({text: 'deploy finished', name: 'CI'})}).then(r => r.status);",
                vec![json!(KEY)],
            )
            .await;
        assert_eq!(posted, 201);
        bob.wait_for("the backend's message", |s| s.messages.iter().any(|m| m.text.contains("deploy finished"))).await;
        wait_admin(op, "the rate moved", |v| v["rooms"]["ops"]["rate"].as_u64() >= Some(1)).await;

        // Read-only: Bob's page says so.
        op.click_css(r#"[data-room="ops"] [data-testid="room-read-only"]"#).await;
        wait_admin(op, "read-only shown", |v| v["rooms"]["ops"]["read_only"] == true).await;
        wait::until("Bob's page shows read-only", wait::TIMEOUT, || bob.eval(
            r#"return document.querySelectorAll('[data-testid="read-only-badge"]').length;"#, vec![]),
            |n: &Value| n.as_u64() >= Some(1)).await;
        shots.take("read-only", &[op]).await;

        // Kick Bob from the room: his page leaves it, the view shows nobody.
        op.click_css(r#"[data-testid="conn-kick"][data-room="ops"]"#).await;
        bob.wait_for("Bob is out of ops", |s| !s.tabs.iter().any(|t| t.room.as_deref() == Some("ops"))).await;
        wait_admin(op, "ops empty", |v| v["rooms"]["ops"]["members"] == 0 || v["rooms"]["ops"].is_null()).await;

        // Close Bob's connection: it is gone from the view (his page reconnects by itself,
        // as another connection).
        let css = format!(r#"[data-conn={bob_conn}] [data-testid="conn-close"]"#);
        op.click_css(&css).await;
        wait_admin(op, "Bob's connection closed", |v| {
            !v["conns"].as_array().unwrap().iter().any(|c| c["id"] == bob_conn)
        })
        .await;
        bob.wait_for("Bob's page live again", |s| s.is_live()).await;
        shots.take("after", &[op]).await;
    })
    .await;
    let mut server = server;
    server.stop().await;
}
