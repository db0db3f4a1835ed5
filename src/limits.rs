//! Every fixed bound of the server, in one place, each with the reason it
//! exists. Bounds an operator may want to change are options instead (see
//! `cli.rs`); these are the ones that protect the server from its clients.

use std::time::Duration;

/// Largest request head (request line and headers) accepted: a head is a few
/// hundred bytes; anything larger is an attack or a mistake (HTTP 431).
pub const MAX_REQUEST_HEAD: usize = 8 * 1024;

/// Time a client has to send its whole request head (HTTP 408): slow-loris
/// clients must not hold a thread and a slot for ever.
pub const REQUEST_HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest message a client may send us (it only ever needs `pong` and
/// control frames); tungstenite would otherwise buffer 64 MiB.
pub const MAX_CLIENT_MESSAGE: usize = 4 * 1024;

/// A client that takes no data for this long is dropped, so that a stalled
/// reader cannot pin a thread, a file and socket buffers for ever.
pub const SEND_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Most file bytes carried by one WebSocket message; also the most a partial
/// line is held back before it is sent anyway.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Largest block of a filtered backward scan: its blocks start at
/// `TAIL_BLOCK` and double while no window is found, so that a scan over
/// much of a file makes fewer, larger reads; bounded so that scans at once
/// hold little memory each, and so that a client gone is noticed within a
/// fraction of a millisecond of scanning.
pub const SCAN_BLOCK: usize = 256 * 1024;

/// Most `match=` texts, and most `exclude=` texts, in one request: a
/// filtered scan costs one search per text over every byte it covers, so
/// the number of texts bounds the work a request can ask for (HTTP 400
/// beyond).
pub const MAX_FILTER_TEXTS: usize = 16;

/// Longest `match=` or `exclude=` text, in bytes (HTTP 400 beyond): a
/// search compares at most this many bytes where a text's rare bytes occur.
pub const MAX_FILTER_TEXT: usize = 256;

/// While a scan runs, with `meta=1`, a progress frame is sent at most this
/// often (and not before the scan has run this long).
pub const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// While a CPU-heavy request waits for its turn (`--max-scans`), it looks
/// at its client this often (gone: it leaves the line) and, with `meta=1`,
/// sends a `{"progress":{…,"waiting":true}}` frame.
pub const TURN_LOOK: Duration = Duration::from_millis(100);

/// Block size of the backwards search for the last N lines: large enough that
/// a thousand 120-byte lines take two reads, small enough to stay cheap.
pub const TAIL_BLOCK: usize = 64 * 1024;

/// Bytes a timeline's probe reads: its N + 1 binary searches per file need
/// only the head of the first line after each probe, so a small block keeps
/// a 120-bucket timeline of a 1 GB log to about 2,000 reads of 8 KiB.
pub const TIMELINE_BLOCK: usize = 8 * 1024;

/// Buckets of a `?timeline` that names no `buckets=`: one bar every few
/// pixels of a page's strip.
pub const TIMELINE_DEFAULT_BUCKETS: usize = 120;

/// Most buckets a `?timeline` may ask for (more is 400): each costs one
/// binary search per file.
pub const TIMELINE_MAX_BUCKETS: usize = 1_000;

/// Longest escape sequence followed: the converter abandons a longer one,
/// and a message end is not held back for it. Real SGR/OSC sequences are far
/// shorter; garbage must neither hide text nor stall a follower.
pub const MAX_ESCAPE_SEQUENCE: usize = 4 * 1024;

/// Stack of each client thread. The follow loop keeps its buffers on the heap,
/// so a small stack lets thousands of followers fit in little memory.
pub const CLIENT_STACK: usize = 256 * 1024;

/// What tungstenite may hold of frames written but not yet taken by a
/// client; past it a send fails and the follower ends (a client that takes
/// nothing for `SEND_STALL_TIMEOUT` is dropped before that, in most cases).
pub const WS_MAX_WRITE_BUFFER: usize = 16 * 1024 * 1024;

/// glibc's allocator settings the server starts with (`GLIBC_TUNABLES`,
/// when the operator has not set it; `serve::malloc`): no per-thread cache
/// of freed small blocks. Each follower has its own thread, and each
/// thread's cache (up to about 240 KB) is kept until the thread ends: 300
/// busy followers through a minute of rotations held 10–16 MB more with it,
/// and growing (the soak of issue 21: about 200 KB each after 10 minutes),
/// 1–5 MB without, steady (`cargo bench --bench bench -- busy-rotate`),
/// for the same CPU time; small blocks then come from the shared arenas,
/// whose free blocks every thread can use again.
pub const MALLOC_TUNABLES: &str = "glibc.malloc.tcache_count=0";

/// tungstenite's read buffer per connection (its default is 128 KiB, which
/// would cost 128 MB for a thousand idle followers).
pub const WS_READ_BUFFER: usize = 4 * 1024;

/// While data keeps coming, the path's identity (device, inode) is still
/// re-checked at least this often, so that a rotation is seen promptly.
pub const ROTATION_CHECK_BUSY: Duration = Duration::from_secs(1);

/// Connections still sending their request head, at most, at once. They
/// hold no client slot (idle sockets must not starve `--max-clients`); a
/// connection beyond this number closes the oldest of them with a 408 (see
/// `HANDSHAKE_GRACE`). A
/// real client sends its head within a round trip, so idle sockets crowd it
/// out only by opening this many connections within that round trip.
pub const MAX_HANDSHAKES: usize = 128;

/// The least time a connection gets to send its head before a newer one may
/// close it; meanwhile new connections wait in the kernel's backlog. A real
/// client's head follows its connection at once, so this only has to cover
/// the start of its thread, even on a loaded machine.
pub const HANDSHAKE_GRACE: Duration = Duration::from_millis(100);

/// Plain HTTP requests (the page, `?list`, downloads, timelines) served at
/// once, in a pool of their own beside `--max-clients`: followers, however
/// many, never lock the page out. Smaller than the followers' pool: each
/// request is short, except a download to a slow reader.
pub const MAX_HTTP_REQUESTS: usize = 128;

/// Plain HTTP requests one peer address (an IPv6 /64) has in progress at
/// once, when `--max-per-address` is not 0: a browser opens six connections
/// to a host, so this leaves room for several behind one NAT, and keeps one
/// client's slow downloads from taking the whole pool.
pub const MAX_HTTP_PER_ADDRESS: usize = 32;

/// How long a plain HTTP request whose pool (or its address's share) is
/// full waits for a slot before it is answered 503 (or 429): a burst of
/// page loads is served a little later instead of refused, also on a
/// loaded machine (a thousand page requests from one address at once are
/// all served: `tests/bounds.rs`).
pub const HTTP_SLOT_WAIT: Duration = Duration::from_secs(30);

/// Plain HTTP requests waiting for a slot, at most; one more is answered
/// at once. Each holds its thread while it waits.
pub const MAX_HTTP_WAITING: usize = 1024;

/// Write timeout of a 503 answer: it is a few hundred bytes, which an empty
/// socket buffer takes at once; this only guards against one that is full.
pub const REFUSAL_WRITE: Duration = Duration::from_secs(2);

/// Lingering close, as nginx does it: after answering a client whose bytes
/// were left unread (a 400/431 head, a Close 1009 or 1002), the server
/// half-closes and reads and discards what still comes, for at most this
/// long and `LINGER_BYTES`, before closing. Closing at once would reset the
/// connection, and a client still sending would see "connection reset"
/// instead of the answer.
pub const LINGER_TIME: Duration = Duration::from_secs(2);

/// Most bytes discarded by a lingering close (see `LINGER_TIME`).
pub const LINGER_BYTES: u64 = 1024 * 1024;

/// Lingering closes at once, at most; past this the socket is closed at
/// once, so that a flood of bad requests cannot hold many threads.
pub const MAX_LINGERING: usize = 64;

/// Pause after a failed `accept` (EMFILE, ENFILE, ENOMEM …) before trying
/// again: survive the condition without spinning on it.
pub const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Longest request target written to the connection's log line (escaped);
/// a longer one is cut, with `...` saying so.
pub const MAX_LOGGED_TARGET: usize = 512;

/// Longest outcome written to the connection's log line (escaped, so a
/// refusal reason that echoes a client's value of a few KiB would be four
/// times that); a longer one is cut, with `...` saying so. With the target's
/// bound, one connection's line stays around a kilobyte.
pub const MAX_LOGGED_OUTCOME: usize = 512;

/// `/?list` walks at most this deep (a file directly in a root is level 1).
pub const LIST_MAX_DEPTH: usize = 4;

/// `/?list` returns at most this many entries.
pub const LIST_MAX_ENTRIES: usize = 10_000;

/// `/?list` looks at most at this many directory entries in all (each
/// costs a few system calls to judge, a symlink more): the work of one
/// request, which needs no token where none is set, must not grow with a
/// directory of 100,000 files. Twice the entries returned, so that a tree
/// with some directories and unlisted files is still listed whole.
pub const LIST_MAX_VISITED: usize = 20_000;

/// `/?list` reads at most this many directories.
pub const LIST_MAX_DIRS: usize = 1_000;

/// `/?list` is streamed as it is walked, in chunks of about this many
/// bytes: what one connection holds of its list, however long the list
/// (a whole list held per connection cost a megabyte or more each).
pub const LIST_BUFFER: usize = 16 * 1024;

/// Symlinks followed, at most, while resolving one client-named path
/// component by component (`access::canonical_within`): a loop of links
/// must end. The kernel's own limit for one path lookup is 40 too.
pub const MAX_SYMLINKS: usize = 40;

/// Download responses are streamed through a buffer of this size, so memory
/// stays bounded whatever the file's size.
pub const DOWNLOAD_BUFFER: usize = 64 * 1024;

/// The longest token accepted on the command line or in a request.
pub const MAX_TOKEN_LEN: usize = 1024;

/// Smallest and largest `--interval`, in seconds.
pub const INTERVAL_RANGE: (f64, f64) = (0.01, 60.0);

/// Directory entries looked at, at most, when a log's older generations are
/// listed (a rotation, a resume, a start frame at 0): a log directory holds
/// hundreds of files, and a huge one must not make each look slow.
pub const MAX_GENERATION_DIR_ENTRIES: usize = 100_000;

/// Directories read at once, at most, in the whole server, to list a log's
/// generations: a rotation wakes all of a log's followers together, and
/// each directory read holds the C library's 32 KiB buffer; 300 of them at
/// once left the allocator's arenas holding megabytes after every rotation
/// (`cargo bench --bench bench -- busy-rotate`). Reading a directory of a
/// few hundred entries takes tens of microseconds, so the followers
/// waiting their turn lose little; the looks at the files found (one
/// `stat` each) run outside it.
pub const MAX_DIRECTORY_READS: usize = 2;

/// How long a listing waits for its turn among `MAX_DIRECTORY_READS`
/// before it reads anyway: two reads stuck on a hung file system (NFS,
/// FUSE) must not stop every other log's followers; a turn normally comes
/// within microseconds.
pub const DIRECTORY_READ_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Older generations of one log kept, at most (logrotate's `rotate` is
/// usually under a hundred): bounds the memory and the files opened.
pub const MAX_GENERATIONS: usize = 1_000;

/// Files a follower remembers having read, so that it never sends a
/// generation twice even when coarse modification times (the kernel's clock
/// tick) leave the order of two generations open: more than the generations
/// a follower can meet between two looks.
pub const MAX_SEEN: usize = 64;

/// Times the generations are listed again when the one to read next was
/// rotated on between the listing and its opening (a rotation storm).
pub const GENERATION_RELIST: usize = 3;

/// Listings of a log's directory, at most, while a follower walks through
/// its generations (from a resume or a rotation until it reaches the file at
/// the path) without progress — no file yielded data and the follower did
/// not wait for data in between: the chain is listed once and walked by
/// index, and listed again only when a generation was rotated on before it
/// was opened or the directory changed when the walk reached its end. So a
/// follower looks at no more than this many times
/// `MAX_GENERATION_DIR_ENTRIES` directory entries for nothing, however the
/// directory is churned; past it the walk goes on with the file at the
/// path (the generations between are not read). Counted since the last
/// progress, not per walk: a follower far behind a log that rotates at
/// every step lists at each, and `copytruncate` after every short write
/// keeps the path empty while copies keep coming. (The looks below 64
/// bytes read, `Followed::short_look`, are not counted: one per change of
/// the file and its directory.)
pub const MAX_WALK_LISTINGS: usize = 16;

/// Bytes of a finished file read, at most, to tell whether a gzip
/// generation newer than it is its own compressed copy (its CRC-32 over
/// them), or another file that was compressed before it was read (then
/// reported as skipped): one read of a rotated log, once per rotation.
/// A longer file is not judged, and nothing is reported for it.
pub const MAX_COPY_CHECK: u64 = 1 << 30;

/// Smallest and largest `--heartbeat`, in seconds (0 turns it off); a day
/// is already longer than any proxy keeps an idle connection.
pub const HEARTBEAT_RANGE: (f64, f64) = (0.0, 86_400.0);

/// Smallest and largest `--pong-timeout`, in seconds: shorter than a
/// round trip would close healthy clients, longer than an hour keeps a
/// vanished one's slot for nothing.
pub const PONG_TIMEOUT_RANGE: (f64, f64) = (0.1, 3600.0);

/// Spacing of a gzip file's restart points, in uncompressed bytes: reading
/// at an offset inflates at most this much before it (plus the read), so a
/// page back through a gzip generation costs about this much inflating
/// (a few milliseconds), while each point holds about 43 KiB (its 32 KiB
/// window and the inflater's tables): about 1% of the text it covers.
pub const GZIP_RESTART_EVERY: u64 = 4 << 20;

/// Memory held by all gzip restart points together (all files, all
/// connections); past it the least recently used are dropped (and found
/// again by the next pass through their file). 64 MiB holds about 1,500
/// points: 6 GB of uncompressed text reachable at a page's cost.
pub const GZIP_RESTART_MEMORY: usize = 64 << 20;

/// gzip files whose restart points or size are remembered, at most (an
/// entry without points is a few dozen bytes; this bounds their number).
pub const GZIP_INDEXED_FILES: usize = 10_000;

/// Inflated bytes a reader of a gzip file keeps, at most, just before
/// where it last read: one restart spacing and a step more, so that a
/// backward scan inflates each stretch between two restart points once
/// and finds the blocks below in it. Held only while the reader reads
/// (an idle follower gives it back); per connection, so `--max-clients`
/// bounds the total.
pub const GZIP_READ_CACHE: usize = GZIP_RESTART_EVERY as usize + (1 << 20);

/// Inflated bytes a follower reading a gzip generation forward keeps below
/// its position (instead of `GZIP_READ_CACHE`): the bytes it checks just
/// before the position are a tag's 64. So a follower's gzip reader holds
/// at most this, one read and one inflating step (64 KiB each: 132 KiB)
/// besides its inflater (about 43 KiB and a 64 KiB input block), however
/// long it reads without a pause: 30 slow readers walking gzip generations
/// held megabytes more without it (`cargo bench --bench bench --
/// busy-rotate`). (When it starts mid-file, what a look at the file had
/// already inflated past its position — within `GZIP_READ_CACHE` — is
/// kept until read, not inflated again.)
pub const GZIP_FOLLOW_KEEP: usize = 4 * 1024;

/// Inflated stretches that readers of gzip files left behind, kept for the
/// next request on the same file (paging back: each page is a new
/// connection, just below the last), at most this many bytes in all;
/// least recently used dropped.
pub const GZIP_SHARED_SPANS: usize = 32 << 20;

/// gzip generations inflated, at most, to find the compressed copy of a
/// file (a resume whose file was rotated and compressed meanwhile, a
/// `copytruncate` copy compressed before the rest was read): the copy is
/// one of the newest; each candidate costs a pass through it.
pub const MAX_GZIP_COPY_CANDIDATES: usize = 3;
/// Most files in one merged view (`merge=`, HTTP 400 beyond): each file
/// holds an open descriptor, a message's worth of buffered lines and a
/// backward scan at the start, all on one client slot.
pub const MAX_MERGED_FILES: usize = 16;
