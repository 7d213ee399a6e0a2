//! Golden test of the page's awareness carets against the stock `yjs` package: for the same
//! document (same client id, same edits) and the same selections, the page's awareness
//! `cursor` must be, key for key, what a stock editor (y-codemirror.next, y-prosemirror,
//! y-quill) publishes — `JSON.stringify` of its `Y.RelativePosition`s, explicit nulls
//! included — and must resolve to the same selection when read as y-codemirror.next reads it
//! (the parsed object straight into `Y.createAbsolutePositionFromRelativePosition`). Both
//! stock forms (that one and `Y.relativePositionToJSON`'s, which omits null keys) must come
//! back as the same carets on the page.
//!
//! Runs `server/tests/yjs-interop/relpos-golden.mjs` under Node.js with that folder's pinned
//! packages (its `package-lock.json`); needs `node` and `npm` on the PATH, and runs `npm ci`
//! there when the packages are missing. A host test: empty on wasm32.
#![cfg(not(target_arch = "wasm32"))]

use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tandem_client::model::doc::protocol::{self, Cursor, Incoming};
use tandem_client::model::doc::{Replica, Selection};

/// The page's client id, and the stock document's: beyond `i32`, as Yjs's random ids are.
const CLIENT: u64 = 3_735_928_559;
/// Another client, the stock editor whose caret the page reads.
const STOCK: u64 = 41;

enum Op {
    Insert(u32, &'static str),
    Delete(u32, u32),
}

struct Case {
    name: &'static str,
    ops: &'static [Op],
    /// (anchor, head) in UTF-16 units.
    selections: &'static [(u32, u32)],
}

const CASES: &[Case] = &[
    Case {
        name: "empty document",
        ops: &[],
        selections: &[(0, 0)],
    },
    Case {
        name: "one insertion",
        ops: &[Op::Insert(0, "hi")],
        selections: &[(0, 0), (1, 1), (2, 2), (0, 2), (2, 0)],
    },
    Case {
        // Several items, one split, an emoji (two UTF-16 units, two clocks) and a deletion:
        // "😀 heo, world" (13 units).
        name: "edited text",
        ops: &[
            Op::Insert(0, "hello world"),
            Op::Insert(5, ","),
            Op::Insert(0, "😀 "),
            Op::Delete(5, 2),
        ],
        selections: &[
            (0, 0),   // start
            (2, 2),   // after the emoji
            (5, 5),   // where the deletion was
            (6, 6),   // middle, just after the insertion ","
            (13, 13), // end
            (4, 9),   // a selection
            (9, 4),   // the same, backwards
            (0, 13),  // everything, the caret at the end
            (13, 0),  // everything, the caret at the start
        ],
    },
    Case {
        name: "everything deleted",
        ops: &[Op::Insert(0, "gone"), Op::Delete(0, 4)],
        selections: &[(0, 0)],
    },
];

fn utf16_len(s: &str) -> u32 {
    s.encode_utf16().count() as u32
}

/// `text` with `op` applied, and where the caret is after it.
fn apply(text: &str, op: &Op) -> (String, u32) {
    let units: Vec<u16> = text.encode_utf16().collect();
    let (at, delete, insert) = match *op {
        Op::Insert(at, s) => (at as usize, 0, s),
        Op::Delete(at, n) => (at as usize, n as usize, ""),
    };
    let mut out = String::from_utf16(&units[..at]).expect("whole characters");
    out.push_str(insert);
    out.push_str(&String::from_utf16(&units[at + delete..]).expect("whole characters"));
    (out, (at as u32) + utf16_len(insert))
}

fn op_json(op: &Op) -> Value {
    match *op {
        Op::Insert(at, s) => json!({ "insert": [at, s] }),
        Op::Delete(at, n) => json!({ "delete": [at, n] }),
    }
}

/// The JSON of the awareness state in one of our awareness frames.
fn state_of(frame: &[u8]) -> Value {
    let Some(Incoming::Awareness(update)) = protocol::decode(frame) else {
        panic!("not an awareness frame")
    };
    let [(_, entry)] = &update.clients.into_iter().collect::<Vec<_>>()[..] else {
        panic!("one client in our awareness frame")
    };
    serde_json::from_str(&entry.json).expect("our awareness state is JSON")
}

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/tests/yjs-interop")
}

const HINT: &str = "this test needs Node.js 18+ on the PATH and the pinned packages, which \
                    `cargo xtask test` installs (or: npm ci --prefix server/tests/yjs-interop)";

/// The interop folder's npm packages are there (`cargo xtask test` installs them with
/// `npm ci`); a clear failure if not.
fn require_packages(dir: &Path) {
    let present = dir.join("node_modules/yjs/package.json").is_file();
    assert!(present, "{} has no node_modules: {HINT}", dir.display());
}

/// Run `relpos-golden.mjs` on `spec`; its output.
fn stock_yjs(spec: &Value) -> Value {
    let dir = interop_dir();
    require_packages(&dir);
    let mut child = Command::new("node")
        .arg("relpos-golden.mjs")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run node ({e}): {HINT}"));
    // unwrap: stdin was piped just above.
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(spec.to_string().as_bytes())
        .expect("write the spec to node");
    drop(stdin);
    let out = child.wait_with_output().expect("wait for node");
    assert!(
        out.status.success(),
        "relpos-golden.mjs failed ({HINT}):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "relpos-golden.mjs printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// What the page does for one case: the text, each selection's awareness `cursor`, and the
/// update frames that build the document.
struct PageCase {
    text: String,
    cursors: Vec<Value>,
    updates: Vec<Vec<u8>>,
}

fn page_case(case: &Case) -> PageCase {
    let mut page = Replica::with_client_id(CLIENT, "Ada", "#4f46e5");
    let mut text = String::new();
    let mut updates = Vec::new();
    for op in case.ops {
        let (next, caret) = apply(&text, op);
        updates.push(
            page.edit(&next, Some(caret), 0)
                .expect("the edit changes the text"),
        );
        text = next;
    }
    assert_eq!(page.text(), text);
    let cursors = case
        .selections
        .iter()
        .map(|&(anchor, head)| {
            page.select(Selection { anchor, head });
            state_of(&page.awareness())["cursor"].clone()
        })
        .collect();
    PageCase {
        text,
        cursors,
        updates,
    }
}

/// A cursor as this page wrote it before (yrs's own serde for `StickyIndex`: only the keys
/// it has), to show the comparison catches it.
fn legacy(cursor: &Value) -> Value {
    let c: Cursor = serde_json::from_value(cursor.clone()).expect("the page reads its cursor");
    json!({
        "anchor": serde_json::to_value(&c.anchor).unwrap(),
        "head": serde_json::to_value(&c.head).unwrap(),
    })
}

/// The carets another page shows for a stock editor publishing `cursor` in the document
/// built by `updates`.
fn shown(updates: &[Vec<u8>], cursor: &Value) -> Vec<Selection> {
    let mut other = Replica::with_client_id(7, "Bo", "#222222");
    for u in updates {
        other.receive(u, None, 0);
    }
    let state = json!({
        "user": {"name": "Stock", "color": "#0f766e", "colorLight": "#0f766e33"},
        "cursor": cursor,
    });
    let frame = protocol::awareness(yrs::ClientID::new(STOCK), 1, &state.to_string());
    assert!(other.receive(&frame, None, 0).peers_changed);
    other.carets().into_iter().map(|c| c.selection).collect()
}

/// One case for `relpos-golden.mjs`: the edits, and each selection with the page's cursor
/// and the old format's for it.
fn spec_case((case, page): (&Case, &PageCase)) -> Value {
    let cursors: Vec<Value> = case
        .selections
        .iter()
        .zip(&page.cursors)
        .map(|(&(anchor, head), cursor)| {
            json!({"anchor": anchor, "head": head, "page": cursor, "legacy": legacy(cursor)})
        })
        .collect();
    let ops: Vec<Value> = case.ops.iter().map(op_json).collect();
    json!({"name": case.name, "ops": ops, "cursors": cursors})
}

#[test]
fn the_pages_carets_are_what_stock_yjs_editors_write_and_read() {
    let pages: Vec<PageCase> = CASES.iter().map(page_case).collect();
    let spec = json!({
        "client": CLIENT,
        "cases": CASES.iter().zip(&pages).map(spec_case).collect::<Vec<_>>(),
    });
    let stock = stock_yjs(&spec);
    assert_eq!(
        stock["yjs"], "13.6.33",
        "the yjs that package-lock.json pins"
    );

    let mut end_of_text_seen = false;
    for ((case, page), got) in CASES
        .iter()
        .zip(&pages)
        .zip(stock["cases"].as_array().unwrap())
    {
        let name = case.name;
        assert_eq!(got["name"], name);
        assert_eq!(got["text"], page.text, "{name}: the same document");
        let got = got["cursors"].as_array().expect("cursors");
        assert_eq!(got.len(), case.selections.len());
        for ((&(anchor, head), cursor), stock) in case.selections.iter().zip(&page.cursors).zip(got)
        {
            let at = format!("{name}, selection {anchor}..{head} of {:?}", page.text);
            // Written: key for key what a stock editor publishes.
            assert_eq!(
                cursor, &stock["stringify"],
                "{at}: the page's cursor (left) is not JSON.stringify of Yjs's (right)"
            );
            // Read by a stock editor as y-codemirror.next reads it: no throw, same place.
            assert_eq!(
                stock["page"],
                json!({"anchor": anchor, "head": head}),
                "{at}: a stock editor resolves the page's cursor {cursor}"
            );
            // Read back by the page, in both stock forms.
            let selection = Selection { anchor, head };
            for form in ["stringify", "toJSON"] {
                assert_eq!(
                    shown(&page.updates, &stock[form]),
                    vec![selection],
                    "{at}: the page shows a stock editor's {form} cursor {}",
                    stock[form]
                );
            }
            // The format the page wrote before fails this test: it is not what Yjs writes,
            // and at the end of the text a stock editor throws on it.
            let old = legacy(cursor);
            assert_ne!(old, stock["stringify"], "{at}: the old format differs");
            if head == utf16_len(&page.text) {
                end_of_text_seen = true;
                assert_eq!(old["head"], json!({"tname": "content", "assoc": 0}));
                assert_eq!(
                    stock["legacy"]["error"],
                    "TypeError: Cannot read properties of undefined (reading 'client')",
                    "{at}: y-codemirror.next's crash on the old format (issue 7)"
                );
                assert_eq!(
                    stock["toJSON"]["head"], old["head"],
                    "{at}: Y.relativePositionToJSON omits the null keys, as yrs's serde did"
                );
            }
        }
    }
    assert!(end_of_text_seen);
}
