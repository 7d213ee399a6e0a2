-- The shared store's first schema: what SqliteStore keeps (store/sqlite/), plus the counters
-- that number a room's messages and its document's updates across nodes.

-- Each room's message counter: the one source of `seq`. Its row lock serialises appends to
-- the room whichever node makes them, so seqs are consecutive and gapless.
CREATE TABLE room_seqs (
    room     text   PRIMARY KEY,
    last_seq bigint NOT NULL
);

CREATE TABLE messages (
    room      text   NOT NULL,
    seq       bigint NOT NULL,
    user_id   text   NOT NULL,
    user_name text   NOT NULL,
    text      text   NOT NULL,
    ts        bigint NOT NULL,
    client_id text,
    PRIMARY KEY (room, seq)
);
-- A client's retry of a message it already sent (same sender, same client_id) finds it here.
CREATE UNIQUE INDEX messages_client_id ON messages (room, user_id, client_id)
    WHERE client_id IS NOT NULL;

-- Each document's update counter: ids are allocated here, never reused (not even after
-- compaction dropped the updates).
CREATE TABLE doc_heads (
    room    text   PRIMARY KEY,
    last_id bigint NOT NULL
);

CREATE TABLE doc_updates (
    room text   NOT NULL,
    id   bigint NOT NULL,
    data bytea  NOT NULL,
    PRIMARY KEY (room, id)
);

-- The whole document as one update, as of update id `upto`.
CREATE TABLE doc_snapshots (
    room     text   PRIMARY KEY,
    snapshot bytea  NOT NULL,
    upto     bigint NOT NULL
);

-- A room's rules (store/sqlite/access.rs): one row per room that has any.
CREATE TABLE room_access (
    room      text    PRIMARY KEY,
    private   boolean NOT NULL,
    title     text,
    owner     text,
    invite    text,
    read_only boolean NOT NULL
);

CREATE TABLE room_roles (
    room    text NOT NULL,
    user_id text NOT NULL,
    role    text NOT NULL CHECK (role IN ('owner', 'member', 'viewer')),
    PRIMARY KEY (room, user_id)
);

-- `until`: milliseconds since the epoch for a kick, NULL for a ban.
CREATE TABLE room_bans (
    room    text NOT NULL,
    user_id text NOT NULL,
    until   bigint,
    PRIMARY KEY (room, user_id)
);
