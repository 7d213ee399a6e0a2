//! A [`StickyIndex`] in awareness as stock Yjs editors write and read it, for
//! `#[serde(with = "relative_position")]`.
//!
//! Stock editors (y-codemirror.next, y-prosemirror, y-quill) put the `Y.RelativePosition`
//! object itself into awareness, so what goes over the wire is `JSON.stringify` of it, with
//! all four keys and explicit nulls, and they read it back *without*
//! `Y.createRelativePositionFromJSON`: y-codemirror.next hands the parsed object straight to
//! `Y.createAbsolutePositionFromRelativePosition`, which tests `item !== null`, so a missing
//! `item` (`undefined`) is taken for an item and throws. So this writes
//!
//! ```json
//! {"type": null, "tname": "content", "item": {"client": 7, "clock": 3}, "assoc": 0}
//! {"type": null, "tname": "content", "item": null, "assoc": 0}
//! ```
//!
//! (a character; the end of the text, or an empty text), as Yjs 13.6 does: `tname` is the
//! root type's name even beside an item, `type` (the id of a nested type) is null for a root
//! type. yrs's own `Serialize` writes only the keys it has (`{"tname":"content","assoc":0}`),
//! as does `Y.relativePositionToJSON`, which omits every null key; this reads that form too
//! (missing keys are nulls, unknown keys are ignored), picking the scope as
//! `Y.createAbsolutePositionFromRelativePosition` does: `item`, else `tname`, else `type`.
//!
//! `assoc` is Yjs's number: ≥ 0 sticks to the character after the position
//! ([`Assoc::After`], written `0`, what stock editors use), < 0 to the one before
//! ([`Assoc::Before`], written `-1`); missing or null is 0, as in
//! `Y.createRelativePositionFromJSON`.
//!
//! The page positions only in its root text, so a position relative to a character is
//! written with `tname` [`TEXT`] (a [`StickyIndex`] does not say which type holds it).

use super::TEXT;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use yrs::{Assoc, ClientID, IndexScope, StickyIndex, ID};

/// Client ids are 53-bit (JavaScript's safe integers); yrs asserts it.
const MAX_CLIENT: u64 = (1 << 53) - 1;

/// An id as Yjs writes it (`Y.ID`: `{client, clock}`).
#[derive(Serialize, Deserialize)]
struct Id {
    client: u64,
    clock: u32,
}

impl From<&ID> for Id {
    fn from(id: &ID) -> Self {
        Id {
            client: id.client.get(),
            clock: id.clock,
        }
    }
}

impl Id {
    fn to_id<E: de::Error>(&self) -> Result<ID, E> {
        if self.client > MAX_CLIENT {
            return Err(E::custom("a client id beyond 53 bits"));
        }
        Ok(ID::new(ClientID::new(self.client), self.clock))
    }
}

/// `Y.RelativePosition`'s fields, in its order.
#[derive(Serialize)]
struct Out<'a> {
    #[serde(rename = "type")]
    ty: Option<Id>,
    tname: Option<&'a str>,
    item: Option<Id>,
    assoc: i8,
}

/// What is read: both forms (every key, or only the non-null ones).
#[derive(Deserialize)]
struct In {
    #[serde(rename = "type", default)]
    ty: Option<Id>,
    #[serde(default)]
    tname: Option<String>,
    #[serde(default)]
    item: Option<Id>,
    #[serde(default)]
    assoc: Option<f64>,
}

pub fn serialize<S: Serializer>(pos: &StickyIndex, serializer: S) -> Result<S::Ok, S::Error> {
    let (ty, tname, item) = match pos.scope() {
        IndexScope::Relative(id) => (None, Some(TEXT), Some(id.into())),
        IndexScope::Root(name) => (None, Some(&**name), None),
        IndexScope::Nested(id) => (Some(id.into()), None, None),
    };
    let assoc = match pos.assoc {
        Assoc::After => 0,
        Assoc::Before => -1,
    };
    Out {
        ty,
        tname,
        item,
        assoc,
    }
    .serialize(serializer)
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<StickyIndex, D::Error> {
    let pos = In::deserialize(deserializer)?;
    let scope = match (pos.item, pos.tname, pos.ty) {
        (Some(item), _, _) => IndexScope::Relative(item.to_id()?),
        (None, Some(name), _) => IndexScope::Root(name.into()),
        (None, None, Some(ty)) => IndexScope::Nested(ty.to_id()?),
        (None, None, None) => {
            return Err(de::Error::custom(
                "a relative position with no item, tname or type",
            ))
        }
    };
    let assoc = if pos.assoc.is_some_and(|a| a < 0.0) {
        Assoc::Before
    } else {
        Assoc::After
    };
    Ok(StickyIndex::new(scope, assoc))
}
