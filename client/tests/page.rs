//! Browser tests of the page itself, in headless Chromium (wasm-bindgen-test through
//! chromedriver; `cargo xtask test` runs them, see `webdriver.json` for the browser's flags).
//! They need no server. The tests that do are in `server.rs`: a separate test binary, so
//! that a failure there (a panic aborts the whole wasm instance, failing the tests after it)
//! cannot take these down with it. The file is empty on the host.
#![cfg(target_arch = "wasm32")]

mod support;

use support::{sleep_ms, within, WAIT_MS};
use tandem_shared::{ClientMsg, Member, ServerMsg};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Poll `check` every 50 ms until it returns `Some`, or fail after `ms`.
async fn eventually<T>(what: &str, ms: u32, mut check: impl FnMut() -> Option<T>) -> T {
    within(what, ms, async {
        loop {
            if let Some(v) = check() {
                return v;
            }
            sleep_ms(50).await;
        }
    })
    .await
}

fn query_all(selector: &str) -> Vec<web_sys::Element> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("document");
    let list = document
        .query_selector_all(selector)
        .expect("valid selector");
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::Element>().ok())
        .collect()
}

fn testid(id: &str) -> Vec<web_sys::Element> {
    query_all(&format!("[data-testid=\"{id}\"]"))
}

/// The page mounts in a real browser, shows the connection indicator in one of its states,
/// and (at `/`, with no room to open) the join form.
#[wasm_bindgen_test]
async fn page_mounts_and_shows_connection_status() {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("document");
    // A root of its own: the test runner reports through elements of its own in <body>.
    let root = document.create_element("div").expect("div");
    root.set_id("tandem-test-root");
    document
        .body()
        .expect("body")
        .append_child(&root)
        .expect("append");
    yew::Renderer::<tandem_client::app::App>::with_root(root).render();

    let state = eventually("connection-status", WAIT_MS, || {
        testid("connection-status")
            .first()
            .and_then(|e| e.get_attribute("data-state"))
    })
    .await;
    assert!(
        ["connecting", "live", "reconnecting", "offline"].contains(&state.as_str()),
        "unexpected data-state {state:?}"
    );
    for id in ["name-input", "room-input", "join-button"] {
        eventually(id, WAIT_MS, || (testid(id).len() == 1).then_some(())).await;
    }
}

/// The wire types survive JSON in the browser's wasm build exactly as on the host.
#[wasm_bindgen_test]
fn wire_types_round_trip_in_wasm() {
    let msg = ClientMsg::Chat {
        room: "lobby".into(),
        text: "héllo ✓ \u{1F600}".into(),
        client_id: Some("c-1".into()),
    };
    let json = serde_json::to_string(&msg).unwrap();
    assert_eq!(
        json,
        r#"{"type":"chat","room":"lobby","text":"héllo ✓ 😀","client_id":"c-1"}"#
    );
    assert_eq!(serde_json::from_str::<ClientMsg>(&json).unwrap(), msg);
    let from_server = r#"{"type":"presence","room":"r","joins":[{"id":"u1","name":"Ada"}],"leaves":["u2"],"count":1234}"#;
    assert_eq!(
        serde_json::from_str::<ServerMsg>(from_server).unwrap(),
        ServerMsg::Presence {
            room: "r".into(),
            joins: vec![Member {
                id: "u1".into(),
                name: "Ada".into(),
                role: None,
            }],
            leaves: vec!["u2".into()],
            count: 1234,
            full: false,
        }
    );
}
