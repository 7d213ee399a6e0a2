//! Size limits of the room protocol, known to both ends so the client can refuse early.

/// Longest room name, in bytes (room names are ASCII).
pub const MAX_ROOM_LEN: usize = 64;
/// Longest display name, in characters, after trimming.
pub const MAX_NAME_LEN: usize = 32;
/// Longest chat text, in characters.
pub const MAX_TEXT_LEN: usize = 4000;
/// Longest idempotency key (`client_id`), in bytes.
pub const MAX_CLIENT_ID_LEN: usize = 64;
/// Longest user id a client may propose in `hello`, in bytes.
pub const MAX_USER_ID_LEN: usize = 64;
/// How many recent chat messages a `joined` reply carries at most.
pub const HISTORY_LEN: usize = 100;
/// Most messages one `history` page carries; a larger `limit` is clamped to this.
pub const HISTORY_PAGE_MAX: u32 = 200;
/// Messages in a `history` page when the request gives no `limit`.
pub const HISTORY_PAGE_DEFAULT: u32 = 50;
/// Default largest room-protocol frame the server accepts, in bytes (close 1009 beyond).
pub const DEFAULT_MAX_FRAME: usize = 64 * 1024;

const _: () = assert!(HISTORY_PAGE_DEFAULT >= 1 && HISTORY_PAGE_DEFAULT <= HISTORY_PAGE_MAX);

// A maximal chat message (4 bytes per char in UTF-8, escaped JSON worst case ×2) must fit a frame.
const _: () = assert!(MAX_TEXT_LEN * 4 + 1024 <= DEFAULT_MAX_FRAME);
