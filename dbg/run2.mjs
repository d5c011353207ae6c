// test/helpers/echo-client.ts
import { createHash } from "node:crypto";

// src/stack/tcp/congestion/reno.ts
var INITIAL_WINDOW_SEGMENTS = 10;
var RenoController = class {
  name = "reno";
  cwnd = 0;
  ssthresh = 0;
  /** Bytes acknowledged since cwnd last grew in congestion avoidance (RFC 3465 §2.1). */
  #bytesAcked = 0;
  init(mss) {
    this.cwnd = INITIAL_WINDOW_SEGMENTS * mss;
    this.ssthresh = 2147483647;
    this.#bytesAcked = 0;
  }
  onAck(acked, mss) {
    if (this.cwnd < this.ssthresh) {
      this.cwnd += acked < 2 * mss ? acked : 2 * mss;
      return;
    }
    this.#bytesAcked += acked;
    if (this.#bytesAcked >= this.cwnd) {
      this.#bytesAcked -= this.cwnd;
      this.cwnd += mss;
    }
  }
  onEnterRecovery(flight, mss) {
    this.ssthresh = Math.max(flight >>> 1, 2 * mss);
    this.cwnd = this.ssthresh + 3 * mss;
  }
  onExitRecovery() {
    this.cwnd = this.ssthresh;
    this.#bytesAcked = 0;
  }
  onRto(flight, mss) {
    this.ssthresh = Math.max(flight >>> 1, 2 * mss);
    this.cwnd = mss;
    this.#bytesAcked = 0;
  }
};

// src/stack/tcp/congestion/index.ts
var FACTORIES = {
  reno: () => new RenoController()
};
var CONGESTION_CONTROL_NAMES = Object.keys(FACTORIES);
function createController(name) {
  return FACTORIES[name]();
}

// src/config/addr.ts
function parseIpv4(text) {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return -1;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return -1;
    n = n * 256 + o;
  }
  return n;
}
function parseMac(text) {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text)) return -1;
  return parseInt(text.replace(/:/g, ""), 16);
}
function parseCidr(text) {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!m) return null;
  const addr = parseIpv4(m[1]);
  const prefix = Number(m[2]);
  if (addr < 0 || prefix > 32) return null;
  return { addr, prefix };
}
function prefixMask(prefix) {
  return prefix === 0 ? 0 : 4294967295 << 32 - prefix >>> 0;
}

// src/config/errors.ts
var ConfigError = class extends Error {
  constructor(file, line, problem, expected) {
    super(`${file}${line > 0 ? `:${line}` : ""}: ${problem}; expected ${expected}`);
    this.file = file;
    this.line = line;
    this.name = "ConfigError";
  }
  file;
  line;
  code = "MTCP_ECONFIG";
};

// src/config/lines.ts
function contentLines(text) {
  const out2 = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const hash = raw.indexOf("#");
    const t = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (t !== "") out2.push({ line: i + 1, text: t });
  });
  return out2;
}

// src/config/arp-conf.ts
var ArpTable = class {
  #net;
  #mask;
  #mac;
  constructor(entries) {
    const sorted = [...entries].sort((a, b) => b.prefix - a.prefix);
    this.#net = new Uint32Array(sorted.map((e) => (e.addr & prefixMask(e.prefix)) >>> 0));
    this.#mask = new Uint32Array(sorted.map((e) => prefixMask(e.prefix)));
    this.#mac = new Float64Array(sorted.map((e) => e.mac));
  }
  /** MAC for `ip`, -1 when no entry covers it. */
  lookup(ip) {
    for (let i = 0; i < this.#net.length; i++) {
      if ((ip & this.#mask[i]) >>> 0 === this.#net[i]) return this.#mac[i];
    }
    return -1;
  }
};

// src/config/route-conf.ts
var RouteTable = class {
  #net;
  #mask;
  #gateway;
  #ports;
  constructor(routes, ports) {
    const implicit = ports.map((p2) => ({
      addr: (p2.addr & prefixMask(p2.prefix)) >>> 0,
      prefix: p2.prefix,
      port: p2.name,
      gateway: 0
    }));
    const all = [...routes, ...implicit].map((r, i) => ({ r, i }));
    all.sort((a, b) => b.r.prefix - a.r.prefix || a.i - b.i);
    this.#net = new Uint32Array(all.map(({ r }) => (r.addr & prefixMask(r.prefix)) >>> 0));
    this.#mask = new Uint32Array(all.map(({ r }) => prefixMask(r.prefix)));
    this.#gateway = new Float64Array(all.map(({ r }) => r.gateway));
    this.#ports = all.map(({ r }) => r.port);
  }
  /** Index of the best route for dst, -1 when none. */
  lookup(dst) {
    for (let i = 0; i < this.#net.length; i++) {
      if ((dst & this.#mask[i]) >>> 0 === this.#net[i]) return i;
    }
    return -1;
  }
  /** IPv4 of the next hop towards dst (dst itself when directly connected), -1 when unreachable. */
  nextHop(dst) {
    const i = this.lookup(dst);
    if (i < 0) return -1;
    return this.#gateway[i] !== 0 ? this.#gateway[i] : dst;
  }
  portOf(dst) {
    const i = this.lookup(dst);
    return i < 0 ? null : this.#ports[i];
  }
};

// src/config/mtcp-conf.ts
var IO_NAMES = ["sim", "shm"];
var IO_LATER = ["tap", "dpdk", "netmap"];
function defaultConfig() {
  return {
    file: "<defaults>",
    io: "shm",
    numCores: 1,
    coreMask: 1,
    numMemCh: 4,
    ports: [],
    statPrint: [],
    maxConcurrency: 1e4,
    maxNumBuffers: 1e4,
    rcvbuf: 8192,
    sndbuf: 8192,
    tcpTimeoutSec: 30,
    tcpTimewaitSec: 0,
    cc: "reno",
    mtu: 1500,
    shmSlots: 1024,
    arpConf: "",
    routeConf: "",
    arp: [],
    routes: []
  };
}
function integer(file, key, l, lo, hi) {
  if (!/^-?\d+$/.test(l.value)) throw new ConfigError(file, l.line, `${key} = ${l.value} is not an integer`, `an integer from ${lo} to ${hi}`);
  const n = Number(l.value);
  if (n < lo || n > hi) throw new ConfigError(file, l.line, `${key} = ${n} is out of range`, `an integer from ${lo} to ${hi}`);
  return n;
}
var KEYS = /* @__PURE__ */ new Set([
  "io",
  "num_cores",
  "core_mask",
  "num_mem_ch",
  "port",
  "stat_print",
  "max_concurrency",
  "max_num_buffers",
  "rcvbuf",
  "sndbuf",
  "tcp_timeout",
  "tcp_timewait",
  "cc",
  "mtu",
  "arp_conf",
  "route_conf",
  "shm_slots"
]);
var PORT_NAME = /^[A-Za-z0-9_]+$/;
function parseMtcpConf(text, file) {
  const seen = /* @__PURE__ */ new Map();
  const portKeys = /* @__PURE__ */ new Map();
  for (const { line, text: t } of contentLines(text)) {
    const eq = t.indexOf("=");
    if (eq < 0) throw new ConfigError(file, line, `\`${t}\` has no \`=\``, "`key = value`");
    const key = t.slice(0, eq).trim();
    const value = t.slice(eq + 1).trim();
    if (value === "") throw new ConfigError(file, line, `${key} has no value`, "`key = value`");
    const dot = /^([A-Za-z0-9_]+)\.(addr|mac)$/.exec(key);
    if (dot) {
      const per = portKeys.get(dot[1]) ?? /* @__PURE__ */ new Map();
      if (per.has(dot[2])) throw new ConfigError(file, line, `duplicate key ${key}`, "each key once");
      per.set(dot[2], { line, value });
      portKeys.set(dot[1], per);
      continue;
    }
    if (!KEYS.has(key)) {
      throw new ConfigError(file, line, `unknown key \`${key}\``, `one of ${[...KEYS].join(", ")}, <port>.addr, <port>.mac`);
    }
    if (seen.has(key)) throw new ConfigError(file, line, `duplicate key ${key}`, "each key once");
    seen.set(key, { line, value });
  }
  const c = defaultConfig();
  c.file = file;
  const get = (k) => seen.get(k);
  let l;
  if (l = get("io")) {
    if (IO_LATER.includes(l.value)) {
      throw new ConfigError(file, l.line, `io = ${l.value} is not supported by this version`, `one of ${IO_NAMES.join(", ")}`);
    }
    if (!IO_NAMES.includes(l.value)) throw new ConfigError(file, l.line, `unknown io = ${l.value}`, `one of ${IO_NAMES.join(", ")}`);
    c.io = l.value;
  }
  if (l = get("num_cores")) c.numCores = integer(file, "num_cores", l, 1, 128);
  c.coreMask = 2 ** c.numCores - 1;
  if (l = get("core_mask")) {
    const m = /^(0x)?([0-9a-fA-F]{1,8})$/.exec(l.value);
    if (!m) throw new ConfigError(file, l.line, `core_mask = ${l.value} is not a hex mask`, "a hex number such as 0xf");
    const mask = parseInt(m[2], 16);
    let bits = 0;
    for (let v = mask; v; v = Math.floor(v / 2)) bits += v & 1;
    if (bits < c.numCores) {
      throw new ConfigError(file, l.line, `core_mask = ${l.value} has ${bits} cores but num_cores = ${c.numCores}`, `at least ${c.numCores} bits set`);
    }
    c.coreMask = mask;
  }
  if (l = get("num_mem_ch")) c.numMemCh = integer(file, "num_mem_ch", l, 1, 16);
  if (l = get("max_concurrency")) c.maxConcurrency = integer(file, "max_concurrency", l, 1, 1 << 22);
  if (l = get("max_num_buffers")) c.maxNumBuffers = integer(file, "max_num_buffers", l, 1, 1 << 22);
  const rcv = get("rcvbuf");
  const snd = get("sndbuf");
  if (rcv) c.rcvbuf = integer(file, "rcvbuf", rcv, 64, 1 << 30);
  if (snd) c.sndbuf = integer(file, "sndbuf", snd, 64, 1 << 30);
  if (rcv && !snd) c.sndbuf = c.rcvbuf;
  if (snd && !rcv) c.rcvbuf = c.sndbuf;
  if (l = get("tcp_timeout")) {
    c.tcpTimeoutSec = integer(file, "tcp_timeout", l, -1, 86400);
    if (c.tcpTimeoutSec === 0) throw new ConfigError(file, l.line, "tcp_timeout = 0", "seconds >= 1, or -1 to disable");
  }
  if (l = get("tcp_timewait")) c.tcpTimewaitSec = integer(file, "tcp_timewait", l, 0, 3600);
  if (l = get("cc")) {
    if (l.value === "cubic") throw new ConfigError(file, l.line, "cc = cubic is not supported by this version", `one of ${CONGESTION_CONTROL_NAMES.join(", ")}`);
    if (!CONGESTION_CONTROL_NAMES.includes(l.value)) {
      throw new ConfigError(file, l.line, `unknown cc = ${l.value}`, `one of ${CONGESTION_CONTROL_NAMES.join(", ")}`);
    }
    c.cc = l.value;
  }
  if (l = get("mtu")) c.mtu = integer(file, "mtu", l, 576, 9e3);
  if (l = get("shm_slots")) {
    c.shmSlots = integer(file, "shm_slots", l, 64, 65536);
    if ((c.shmSlots & c.shmSlots - 1) !== 0) throw new ConfigError(file, l.line, `shm_slots = ${c.shmSlots}`, "a power of two from 64 to 65536");
  }
  c.arpConf = get("arp_conf")?.value ?? "";
  c.routeConf = get("route_conf")?.value ?? "";
  const portLine = get("port");
  const names = portLine ? portLine.value.split(/\s+/) : [`${c.io}0`];
  for (const n of names) {
    if (!PORT_NAME.test(n)) throw new ConfigError(file, portLine?.line ?? 0, `bad port name \`${n}\``, "letters, digits and _");
  }
  if (new Set(names).size !== names.length) throw new ConfigError(file, portLine?.line ?? 0, "a port is listed twice", "distinct port names");
  for (const [name, per] of portKeys) {
    if (!names.includes(name)) {
      const first = [...per.values()][0];
      throw new ConfigError(file, first.line, `${name}.* is given but ${name} is not in \`port\``, `a port from \`port = ${names.join(" ")}\``);
    }
  }
  c.ports = names.map((name) => {
    const per = portKeys.get(name);
    const addrLine = per?.get("addr");
    if (!addrLine) throw new ConfigError(file, portLine?.line ?? 0, `port ${name} has no address`, `a line \`${name}.addr = ip/prefix\``);
    const cidr = parseCidr(addrLine.value);
    if (!cidr) throw new ConfigError(file, addrLine.line, `${name}.addr = ${addrLine.value}`, "an IPv4 address with a prefix, e.g. 198.18.0.1/24");
    let mac;
    const macLine = per?.get("mac");
    if (macLine) {
      mac = parseMac(macLine.value);
      if (mac < 0) throw new ConfigError(file, macLine.line, `${name}.mac = ${macLine.value}`, "six hex bytes separated by colons");
    } else {
      mac = 2199023255552 + cidr.addr;
    }
    return { name, addr: cidr.addr, prefix: cidr.prefix, mac };
  });
  if (l = get("stat_print")) {
    c.statPrint = l.value.split(/\s+/);
    for (const p2 of c.statPrint) {
      if (!names.includes(p2)) throw new ConfigError(file, l.line, `stat_print names unknown port \`${p2}\``, `ports from \`port\` (${names.join(", ")})`);
    }
  }
  return c;
}

// src/stack/errno.ts
var EPERM = 1;
var ENOENT = 2;
var EINTR = 4;
var EBADF = 9;
var EAGAIN = 11;
var ENOMEM = 12;
var EFAULT = 14;
var EEXIST = 17;
var EINVAL = 22;
var EMFILE = 24;
var ENOSPC = 28;
var EPIPE = 32;
var ENOTSOCK = 88;
var EDESTADDRREQ = 89;
var EPROTOTYPE = 91;
var ENOPROTOOPT = 92;
var EPROTONOSUPPORT = 93;
var EOPNOTSUPP = 95;
var EAFNOSUPPORT = 97;
var EADDRINUSE = 98;
var EADDRNOTAVAIL = 99;
var ENETUNREACH = 101;
var ECONNABORTED = 103;
var ECONNRESET = 104;
var EISCONN = 106;
var ENOTCONN = 107;
var ETIMEDOUT = 110;
var ECONNREFUSED = 111;
var EHOSTUNREACH = 113;
var EALREADY = 114;
var EINPROGRESS = 115;
var NAMES = {
  [EPERM]: "EPERM",
  [ENOENT]: "ENOENT",
  [EINTR]: "EINTR",
  [EBADF]: "EBADF",
  [EAGAIN]: "EAGAIN",
  [ENOMEM]: "ENOMEM",
  [EFAULT]: "EFAULT",
  [EEXIST]: "EEXIST",
  [EINVAL]: "EINVAL",
  [EMFILE]: "EMFILE",
  [ENOSPC]: "ENOSPC",
  [EPIPE]: "EPIPE",
  [ENOTSOCK]: "ENOTSOCK",
  [EDESTADDRREQ]: "EDESTADDRREQ",
  [EPROTOTYPE]: "EPROTOTYPE",
  [ENOPROTOOPT]: "ENOPROTOOPT",
  [EPROTONOSUPPORT]: "EPROTONOSUPPORT",
  [EOPNOTSUPP]: "EOPNOTSUPP",
  [EAFNOSUPPORT]: "EAFNOSUPPORT",
  [EADDRINUSE]: "EADDRINUSE",
  [EADDRNOTAVAIL]: "EADDRNOTAVAIL",
  [ENETUNREACH]: "ENETUNREACH",
  [ECONNABORTED]: "ECONNABORTED",
  [ECONNRESET]: "ECONNRESET",
  [EISCONN]: "EISCONN",
  [ENOTCONN]: "ENOTCONN",
  [ETIMEDOUT]: "ETIMEDOUT",
  [ECONNREFUSED]: "ECONNREFUSED",
  [EHOSTUNREACH]: "EHOSTUNREACH",
  [EALREADY]: "EALREADY",
  [EINPROGRESS]: "EINPROGRESS"
};
function errnoName(errno) {
  return NAMES[errno] ?? `E${errno}`;
}

// src/epoll/events.ts
var MTCP_EPOLLIN = 1;
var MTCP_EPOLLOUT = 4;
var MTCP_EPOLLERR = 8;
var MTCP_EPOLLHUP = 16;
var MTCP_EPOLLRDHUP = 8192;
var MTCP_EPOLLONESHOT = 1 << 30;
var MTCP_EPOLLET = 2147483648;
var MTCP_EPOLL_CTL_ADD = 1;
var MTCP_EPOLL_CTL_DEL = 2;
var MTCP_EPOLL_CTL_MOD = 3;
function createEpollEvents(n) {
  const a = new Array(n);
  for (let i = 0; i < n; i++) a[i] = { events: 0, data: { sockid: -1, ptr: null } };
  return a;
}

// src/epoll/epoll.ts
var ALWAYS = MTCP_EPOLLERR | MTCP_EPOLLHUP;
var FLAG_REGISTERED = 1;
var FLAG_READY = 2;
var FLAG_ET = 4;
var FLAG_ONESHOT = 8;
var Epoll = class {
  constructor(source, maxSockets) {
    this.source = source;
    this.maxSockets = maxSockets;
    this.#interest = new Uint32Array(maxSockets);
    this.#flags = new Uint8Array(maxSockets);
    this.#dataSockid = new Float64Array(maxSockets);
    this.#dataPtr = new Array(maxSockets).fill(null);
    this.#next = new Int32Array(maxSockets).fill(-1);
    this.#prev = new Int32Array(maxSockets).fill(-1);
  }
  source;
  maxSockets;
  /** Event bits the application asked for (without ET/ONESHOT); 0 once a ONESHOT fired. */
  #interest;
  #flags;
  #dataSockid;
  #dataPtr;
  /** Ready list: an intrusive FIFO. */
  #next;
  #prev;
  #head = -1;
  #tail = -1;
  #readyCount = 0;
  #size = 0;
  get size() {
    return this.#size;
  }
  get hasReady() {
    return this.#head >= 0;
  }
  isRegistered(sockid) {
    return sockid >= 0 && sockid < this.maxSockets && (this.#flags[sockid] & FLAG_REGISTERED) !== 0;
  }
  ctl(op, sockid, event) {
    if (!Number.isInteger(sockid) || sockid < 0 || sockid >= this.maxSockets) return EINVAL;
    const registered = (this.#flags[sockid] & FLAG_REGISTERED) !== 0;
    switch (op) {
      case MTCP_EPOLL_CTL_ADD:
        if (!event || typeof event.events !== "number") return EINVAL;
        if (registered) return EEXIST;
        this.#size++;
        break;
      case MTCP_EPOLL_CTL_MOD:
        if (!event || typeof event.events !== "number") return EINVAL;
        if (!registered) return ENOENT;
        break;
      case MTCP_EPOLL_CTL_DEL:
        if (!registered) return ENOENT;
        this.forget(sockid);
        return 0;
      default:
        return EINVAL;
    }
    const ev = event.events >>> 0;
    let flags = FLAG_REGISTERED | this.#flags[sockid] & FLAG_READY;
    if (ev & MTCP_EPOLLET) flags |= FLAG_ET;
    if (ev & MTCP_EPOLLONESHOT) flags |= FLAG_ONESHOT;
    this.#flags[sockid] = flags;
    this.#interest[sockid] = (ev & ~(MTCP_EPOLLET | MTCP_EPOLLONESHOT)) >>> 0;
    this.#dataSockid[sockid] = event.data ? event.data.sockid : 0;
    this.#dataPtr[sockid] = event.data ? event.data.ptr : null;
    if (!(flags & FLAG_READY) && this.source.readiness(sockid) & (this.#interest[sockid] | ALWAYS)) this.#enqueue(sockid);
    return 0;
  }
  wake(sockid, bits) {
    const f = this.#flags[sockid];
    if (!(f & FLAG_REGISTERED) || f & FLAG_READY) return;
    if (!(bits & (this.#interest[sockid] | ALWAYS))) return;
    this.#enqueue(sockid);
  }
  forget(sockid) {
    const f = this.#flags[sockid];
    if (!(f & FLAG_REGISTERED)) return;
    if (f & FLAG_READY) this.#unlink(sockid);
    this.#flags[sockid] = 0;
    this.#interest[sockid] = 0;
    this.#dataPtr[sockid] = null;
    this.#size--;
  }
  collect(events, maxevents) {
    let n = 0;
    let remaining = this.#readyCount;
    while (remaining-- > 0 && n < maxevents && this.#head >= 0) {
      const id = this.#head;
      this.#unlink(id);
      const interest = this.#interest[id];
      const mask = this.source.readiness(id) & (interest | ALWAYS);
      if (mask === 0) continue;
      const e = events[n++];
      e.events = mask;
      e.data.sockid = this.#dataSockid[id];
      e.data.ptr = this.#dataPtr[id];
      const f = this.#flags[id];
      if (f & FLAG_ONESHOT) this.#interest[id] = 0;
      else if (!(f & FLAG_ET)) this.#enqueue(id);
    }
    return n;
  }
  #enqueue(id) {
    this.#flags[id] |= FLAG_READY;
    this.#next[id] = -1;
    this.#prev[id] = this.#tail;
    if (this.#tail >= 0) this.#next[this.#tail] = id;
    else this.#head = id;
    this.#tail = id;
    this.#readyCount++;
  }
  #unlink(id) {
    const n = this.#next[id];
    const p2 = this.#prev[id];
    if (p2 >= 0) this.#next[p2] = n;
    else this.#head = n;
    if (n >= 0) this.#prev[n] = p2;
    else this.#tail = p2;
    this.#next[id] = this.#prev[id] = -1;
    this.#flags[id] &= ~FLAG_READY;
    this.#readyCount--;
  }
};

// src/stack/tcp/state.ts
var STATE_NAMES = [
  "CLOSED",
  "LISTEN",
  "SYN_SENT",
  "SYN_RECEIVED",
  "ESTABLISHED",
  "FIN_WAIT_1",
  "FIN_WAIT_2",
  "CLOSE_WAIT",
  "CLOSING",
  "LAST_ACK",
  "TIME_WAIT"
];

// src/mtcp/affinity.ts
import koffi from "koffi";

// src/mtcp/context.ts
import { setImmediate as immediate } from "node:timers/promises";

// src/io/driver.ts
var FrameBatch = class {
  constructor(capacity) {
    this.capacity = capacity;
    const empty = new Uint8Array(0);
    this.buf = new Array(capacity).fill(empty);
    this.off = new Int32Array(capacity);
    this.len = new Int32Array(capacity);
    this.id = new Int32Array(capacity);
  }
  capacity;
  /** Number of valid entries. */
  count = 0;
  /** Arena that frame i lives in (a few long-lived Uint8Arrays, never one per frame). */
  buf;
  /** Byte offset of frame i in buf[i]. */
  off;
  /** Length of frame i in bytes (for a TX slot: its capacity until the stack sets the frame length). */
  len;
  /** Driver-private handle of frame i (slot index, mbuf index ...), for release. */
  id;
};

// src/stack/arp-cache.ts
var ARP_REACHABLE_MS = 6e4;
var ARP_PENDING_TIMEOUT_MS = 1e3;
var ARP_REQUEST_INTERVAL_MS = 100;
var ArpCache = class {
  constructor(statics) {
    this.statics = statics;
  }
  statics;
  #macs = /* @__PURE__ */ new Map();
  #freshUntil = /* @__PURE__ */ new Map();
  #lastRequest = /* @__PURE__ */ new Map();
  /** One-entry memo for the common case of one next hop. */
  #lastIp = -1;
  #lastMac = -1;
  /** MAC for `ip`, or -1. */
  lookup(ip) {
    if (ip === this.#lastIp) return this.#lastMac;
    let mac = this.#macs.get(ip) ?? -1;
    if (mac < 0 && this.statics) mac = this.statics.lookup(ip);
    if (mac >= 0) {
      this.#lastIp = ip;
      this.#lastMac = mac;
    }
    return mac;
  }
  /** Learn or refresh ip → mac. Returns true when the entry is new or changed. */
  learn(ip, mac, now) {
    const old = this.#macs.get(ip);
    this.#macs.set(ip, mac);
    this.#freshUntil.set(ip, now + ARP_REACHABLE_MS);
    if (ip === this.#lastIp) this.#lastMac = mac;
    return old !== mac;
  }
  /** Whether a learned entry for `ip` has gone stale and should be refreshed. */
  isStale(ip, now) {
    const t = this.#freshUntil.get(ip);
    return t !== void 0 && now > t;
  }
  /** Whether a request for `ip` may be sent now (rate limit); records it when so. */
  mayRequest(ip, now) {
    const last = this.#lastRequest.get(ip);
    if (last !== void 0 && now - last < ARP_REQUEST_INTERVAL_MS) return false;
    this.#lastRequest.set(ip, now);
    return true;
  }
  get size() {
    return this.#macs.size;
  }
};
var PendingFrames = class {
  constructor(slots, slotSize) {
    this.slots = slots;
    this.slotSize = slotSize;
    this.bytes = new Uint8Array(slots * slotSize);
    this.#nextHop = new Float64Array(slots).fill(-1);
    this.#len = new Int32Array(slots);
    this.#queuedAt = new Float64Array(slots);
  }
  slots;
  slotSize;
  bytes;
  #nextHop;
  #len;
  #queuedAt;
  #count = 0;
  get count() {
    return this.#count;
  }
  /** Copy a frame in. Returns true if an older frame had to be dropped to make room. */
  add(nextHop, src, off, len, now) {
    let slot = -1;
    let oldest = 0;
    for (let i = 0; i < this.slots; i++) {
      if (this.#nextHop[i] < 0) {
        slot = i;
        break;
      }
      if (this.#queuedAt[i] < this.#queuedAt[oldest]) oldest = i;
    }
    const evicted = slot < 0;
    if (evicted) slot = oldest;
    else this.#count++;
    this.bytes.set(src.subarray(off, off + len), slot * this.slotSize);
    this.#nextHop[slot] = nextHop;
    this.#len[slot] = len;
    this.#queuedAt[slot] = now;
    return evicted;
  }
  /** Call `send(offset, len)` for each frame waiting for `nextHop` and forget it. */
  release(nextHop, send) {
    if (this.#count === 0) return;
    for (let i = 0; i < this.slots; i++) {
      if (this.#nextHop[i] !== nextHop) continue;
      send(i * this.slotSize, this.#len[i]);
      this.#nextHop[i] = -1;
      this.#count--;
    }
  }
  /** Drop frames older than ARP_PENDING_TIMEOUT_MS; returns how many. */
  expire(now) {
    if (this.#count === 0) return 0;
    let n = 0;
    for (let i = 0; i < this.slots; i++) {
      if (this.#nextHop[i] >= 0 && now - this.#queuedAt[i] > ARP_PENDING_TIMEOUT_MS) {
        this.#nextHop[i] = -1;
        this.#count--;
        n++;
      }
    }
    return n;
  }
};

// src/stack/drop-reason.ts
var DROP_REASON_NAMES = [
  "none",
  "eth_too_short",
  "eth_not_for_us",
  "eth_unknown_type",
  "arp_too_short",
  "arp_unsupported",
  "arp_not_for_us",
  "ip_too_short",
  "ip_bad_version",
  "ip_bad_header_len",
  "ip_bad_total_len",
  "ip_bad_checksum",
  "ip_fragment",
  "ip_not_for_us",
  "ip_unknown_protocol",
  "ip_no_route",
  "ip_arp_pending",
  "icmp_too_short",
  "icmp_bad_checksum",
  "icmp_unsupported",
  "tcp_too_short",
  "tcp_bad_data_offset",
  "tcp_bad_checksum",
  "tcp_bad_option",
  "tcp_bad_flags",
  "tcp_no_socket",
  "tcp_listen_not_syn",
  "tcp_backlog_full",
  "tcp_no_memory",
  "tcp_out_of_window",
  "tcp_bad_ack",
  "tcp_bad_rst",
  "tcp_paws_reject",
  "tcp_syn_in_window",
  "tcp_after_close",
  "tcp_ooo_full",
  "tx_no_slot"
];

// src/stack/stats.ts
var Stats = class {
  /** Frames and bytes received from the driver. */
  rxFrames = 0;
  rxBytes = 0;
  /** Frames and bytes handed to the driver. */
  txFrames = 0;
  txBytes = 0;
  /** Dropped frames by reason, indexed by DropReason. */
  drops = new Float64Array(37 /* Count */);
  /** Connections we initiated (SYN sent). */
  tcpActiveOpens = 0;
  /** Connections accepted on a listener (reached ESTABLISHED from LISTEN). */
  tcpPassiveOpens = 0;
  /** Connections whose control block was released. */
  tcpClosed = 0;
  /** Connections that failed with an error (reset, refused, timed out). */
  tcpFailed = 0;
  /** Segments retransmitted (timeouts and fast retransmits). */
  tcpRetransmits = 0;
  /** Retransmission timeouts fired. */
  tcpTimeouts = 0;
  /** RST segments sent and received. */
  tcpRstSent = 0;
  tcpRstReceived = 0;
  /** TCP segments received and sent. */
  tcpInSegs = 0;
  tcpOutSegs = 0;
  /** ICMP echo requests answered. */
  icmpEchoReplies = 0;
  /** ARP requests sent and replies sent. */
  arpRequestsSent = 0;
  arpRepliesSent = 0;
  /** Total dropped frames. */
  totalDrops() {
    let n = 0;
    for (let i = 1; i < this.drops.length; i++) n += this.drops[i];
    return n;
  }
  /** The non-zero drop counters by name. */
  dropsByName() {
    const out2 = {};
    for (let i = 1; i < this.drops.length; i++) {
      if (this.drops[i] > 0) out2[DROP_REASON_NAMES[i]] = this.drops[i];
    }
    return out2;
  }
};

// src/stack/buffer-pool.ts
var BufferPool = class {
  constructor(count, size2) {
    this.count = count;
    this.size = size2;
    if (!Number.isInteger(count) || !Number.isInteger(size2) || count < 1 || size2 < 1) {
      throw new RangeError(`buffer pool: count ${count} and size ${size2} must be positive integers`);
    }
    if (count * size2 > 2 ** 31 - 1) {
      throw new RangeError(`buffer pool: ${count} x ${size2} bytes exceeds 2 GiB; lower max_num_buffers, rcvbuf or sndbuf`);
    }
    this.bytes = new Uint8Array(count * size2);
    this.#free = new Int32Array(count);
    this.#used = new Uint8Array(count);
    for (let i = 0; i < count; i++) this.#free[i] = count - 1 - i;
    this.#freeCount = count;
  }
  count;
  size;
  /** The arena; slot i occupies [i*size, (i+1)*size). */
  bytes;
  #free;
  #used;
  #freeCount;
  #highWater = 0;
  alloc() {
    if (this.#freeCount === 0) return -1;
    const slot = this.#free[--this.#freeCount];
    this.#used[slot] = 1;
    const inUse = this.count - this.#freeCount;
    if (inUse > this.#highWater) this.#highWater = inUse;
    return slot;
  }
  free(slot) {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.count) throw new Error(`buffer pool: bad slot ${slot}`);
    if (this.#used[slot] === 0) throw new Error(`buffer pool: slot ${slot} freed twice`);
    this.#used[slot] = 0;
    this.#free[this.#freeCount++] = slot;
  }
  get inUse() {
    return this.count - this.#freeCount;
  }
  get highWater() {
    return this.#highWater;
  }
};

// src/stack/flow-table.ts
var FlowTable = class {
  constructor(capacity, seed = 2654435769) {
    this.capacity = capacity;
    let n = 1;
    while (n < capacity * 2) n <<= 1;
    this.#mask = n - 1;
    this.#localIp = new Int32Array(n);
    this.#remoteIp = new Int32Array(n);
    this.#ports = new Int32Array(n);
    this.#value = new Int32Array(n).fill(-1);
    this.#seed = seed | 0;
  }
  capacity;
  #mask;
  #localIp;
  #remoteIp;
  #ports;
  /** Stored value, -1 for an empty bucket. */
  #value;
  #seed;
  #size = 0;
  get size() {
    return this.#size;
  }
  #hash(localIp, remoteIp, ports) {
    let h = this.#seed ^ Math.imul(localIp | 0, 2246822507);
    h = Math.imul(h ^ h >>> 15, 739982445) ^ Math.imul(remoteIp | 0, 3266489909);
    h = Math.imul(h ^ h >>> 13, 695872825) ^ ports;
    h = Math.imul(h ^ h >>> 16, 2246822507);
    h ^= h >>> 13;
    return h & this.#mask;
  }
  lookup(localIp, localPort, remoteIp, remotePort) {
    const lip = localIp | 0;
    const rip = remoteIp | 0;
    const ports = localPort << 16 | remotePort;
    let i = this.#hash(lip, rip, ports);
    for (; ; ) {
      const v = this.#value[i];
      if (v < 0) return -1;
      if (this.#ports[i] === ports && this.#remoteIp[i] === rip && this.#localIp[i] === lip) return v;
      i = i + 1 & this.#mask;
    }
  }
  insert(localIp, localPort, remoteIp, remotePort, value) {
    if (this.#size >= this.capacity) return false;
    const lip = localIp | 0;
    const rip = remoteIp | 0;
    const ports = localPort << 16 | remotePort;
    let i = this.#hash(lip, rip, ports);
    for (; ; ) {
      if (this.#value[i] < 0) break;
      if (this.#ports[i] === ports && this.#remoteIp[i] === rip && this.#localIp[i] === lip) return false;
      i = i + 1 & this.#mask;
    }
    this.#localIp[i] = lip;
    this.#remoteIp[i] = rip;
    this.#ports[i] = ports;
    this.#value[i] = value;
    this.#size++;
    return true;
  }
  remove(localIp, localPort, remoteIp, remotePort) {
    const lip = localIp | 0;
    const rip = remoteIp | 0;
    const ports = localPort << 16 | remotePort;
    const mask = this.#mask;
    let i = this.#hash(lip, rip, ports);
    for (; ; ) {
      if (this.#value[i] < 0) return false;
      if (this.#ports[i] === ports && this.#remoteIp[i] === rip && this.#localIp[i] === lip) break;
      i = i + 1 & mask;
    }
    let hole = i;
    let j = i;
    for (; ; ) {
      j = j + 1 & mask;
      if (this.#value[j] < 0) break;
      const home = this.#hash(this.#localIp[j], this.#remoteIp[j], this.#ports[j]);
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (inRange) continue;
      this.#localIp[hole] = this.#localIp[j];
      this.#remoteIp[hole] = this.#remoteIp[j];
      this.#ports[hole] = this.#ports[j];
      this.#value[hole] = this.#value[j];
      hole = j;
    }
    this.#value[hole] = -1;
    this.#size--;
    return true;
  }
};

// src/stack/timer-wheel.ts
var TimerWheel = class {
  constructor(capacity, tickMs, slots) {
    this.capacity = capacity;
    if (slots <= 0 || (slots & slots - 1) !== 0) throw new RangeError("timer wheel: slots must be a power of two");
    this.#tickMs = tickMs;
    this.#mask = slots - 1;
    this.#overdue = slots;
    this.#firing = slots + 1;
    this.#heads = new Int32Array(slots + 2).fill(-1);
    this.#next = new Int32Array(capacity).fill(-1);
    this.#prev = new Int32Array(capacity).fill(-1);
    this.#listOf = new Int32Array(capacity).fill(-1);
    this.#deadline = new Float64Array(capacity).fill(-1);
  }
  capacity;
  #tickMs;
  #mask;
  /** List of deadlines in ticks already processed. */
  #overdue;
  /** The list being fired by advance(). */
  #firing;
  /** Head id of each list (slots, then overdue, then firing), -1 when empty. */
  #heads;
  #next;
  #prev;
  /** List each id is linked in, -1 when not armed. */
  #listOf;
  #deadline;
  /** The first tick advance() will visit (the current tick, still in progress), -1 before the first call. */
  #tick = -1;
  #size = 0;
  get size() {
    return this.#size;
  }
  isScheduled(id) {
    return this.#listOf[id] >= 0;
  }
  deadlineOf(id) {
    return this.#listOf[id] >= 0 ? this.#deadline[id] : -1;
  }
  schedule(id, atMs) {
    if (this.#listOf[id] >= 0) this.#unlink(id);
    else this.#size++;
    const tick = Math.floor(atMs / this.#tickMs);
    this.#deadline[id] = atMs;
    this.#link(id, this.#tick >= 0 && tick < this.#tick ? this.#overdue : tick & this.#mask);
  }
  cancel(id) {
    if (this.#listOf[id] < 0) return;
    this.#unlink(id);
    this.#deadline[id] = -1;
    this.#size--;
  }
  #link(id, list) {
    const head = this.#heads[list];
    this.#next[id] = head;
    this.#prev[id] = -1;
    if (head >= 0) this.#prev[head] = id;
    this.#heads[list] = id;
    this.#listOf[id] = list;
  }
  #unlink(id) {
    const list = this.#listOf[id];
    const n = this.#next[id];
    const p2 = this.#prev[id];
    if (p2 >= 0) this.#next[p2] = n;
    else this.#heads[list] = n;
    if (n >= 0) this.#prev[n] = p2;
    this.#listOf[id] = -1;
    this.#next[id] = this.#prev[id] = -1;
  }
  advance(nowMs, fire) {
    const nowTick = Math.floor(nowMs / this.#tickMs);
    if (this.#tick < 0) this.#tick = nowTick;
    let fired = 0;
    if (this.#size > 0) {
      fired += this.#fireList(this.#overdue, this.#overdue, nowMs, fire);
      const slots = this.#mask + 1;
      let from = this.#tick;
      if (nowTick - from >= slots) from = nowTick - slots + 1;
      for (let tick = from; tick <= nowTick && this.#size > 0; tick++) {
        this.#tick = tick;
        const slot = tick & this.#mask;
        fired += this.#fireList(slot, slot, nowMs, fire);
      }
    }
    if (nowTick > this.#tick) this.#tick = nowTick;
    return fired;
  }
  /**
   * Fire the entries of `list` due by nowMs. The list is first moved to the
   * firing list, so fire() may schedule or cancel anything; entries not due
   * return to `home`.
   */
  #fireList(list, home, nowMs, fire) {
    let id = this.#heads[list];
    if (id < 0) return 0;
    this.#heads[list] = -1;
    for (let k = id; k >= 0; k = this.#next[k]) this.#listOf[k] = this.#firing;
    this.#heads[this.#firing] = id;
    let fired = 0;
    while ((id = this.#heads[this.#firing]) >= 0) {
      this.#unlink(id);
      if (this.#deadline[id] <= nowMs) {
        this.#deadline[id] = -1;
        this.#size--;
        fired++;
        fire(id);
      } else {
        this.#link(id, home);
      }
    }
    return fired;
  }
  nextDeadline() {
    if (this.#size === 0) return Infinity;
    let best = Infinity;
    for (let id = this.#heads[this.#overdue]; id >= 0; id = this.#next[id]) {
      if (this.#deadline[id] < best) best = this.#deadline[id];
    }
    const slots = this.#mask + 1;
    const start = this.#tick < 0 ? 0 : this.#tick;
    for (let k = 0; k < slots; k++) {
      if ((start + k) * this.#tickMs >= best) break;
      for (let id = this.#heads[start + k & this.#mask]; id >= 0; id = this.#next[id]) {
        if (this.#deadline[id] < best) best = this.#deadline[id];
      }
    }
    return best;
  }
};

// src/stack/wire/checksum.ts
function checksumAdd(buf, off, len, sum) {
  let i = off;
  const end = off + len;
  const end8 = off + (len & ~7);
  let s = 0;
  while (i < end8) {
    s += (buf[i] << 8 | buf[i + 1]) + (buf[i + 2] << 8 | buf[i + 3]) + (buf[i + 4] << 8 | buf[i + 5]) + (buf[i + 6] << 8 | buf[i + 7]);
    i += 8;
  }
  while (i + 1 < end) {
    s += buf[i] << 8 | buf[i + 1];
    i += 2;
  }
  if (i < end) s += buf[i] << 8;
  return sum + s;
}
function checksumFold(sum) {
  let s = sum;
  while (s > 65535) s = s % 65536 + Math.floor(s / 65536);
  return ~s & 65535;
}
function pseudoHeaderSum(src, dst, proto, len) {
  return (src >>> 16) + (src & 65535) + (dst >>> 16) + (dst & 65535) + proto + len;
}

// src/stack/wire/ipv4.ts
var IPV4_HLEN = 20;
var IPPROTO_ICMP = 1;
var IPPROTO_TCP = 6;
var VER_IHL = 0;
var TOTAL_LEN = 2;
var ID = 4;
var FLAGS_FRAG = 6;
var TTL = 8;
var PROTO = 9;
var CHECKSUM = 10;
var SRC = 12;
var DST = 16;
var FLAG_DF = 16384;
var FLAG_MF = 8192;
var FRAG_OFFSET_MASK = 8191;
var Ipv4Fields = class {
  headerLen = 0;
  totalLen = 0;
  id = 0;
  flagsFrag = 0;
  ttl = 0;
  proto = 0;
  src = 0;
  dst = 0;
  payloadOff = 0;
  payloadLen = 0;
};
function read32(b, o) {
  return (b[o] << 24 | b[o + 1] << 16 | b[o + 2] << 8 | b[o + 3]) >>> 0;
}
function write32(b, o, v) {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16 & 255;
  b[o + 2] = v >>> 8 & 255;
  b[o + 3] = v & 255;
}
function parseIpv42(buf, off, len, out2) {
  if (len < IPV4_HLEN) return 7 /* IpTooShort */;
  const vi = buf[off + VER_IHL];
  if (vi >>> 4 !== 4) return 8 /* IpBadVersion */;
  const hlen = (vi & 15) << 2;
  if (hlen < IPV4_HLEN || hlen > len) return 9 /* IpBadHeaderLen */;
  const total = buf[off + TOTAL_LEN] << 8 | buf[off + TOTAL_LEN + 1];
  if (total < hlen || total > len) return 10 /* IpBadTotalLen */;
  if (checksumFold(checksumAdd(buf, off, hlen, 0)) !== 0) return 11 /* IpBadChecksum */;
  const ff = buf[off + FLAGS_FRAG] << 8 | buf[off + FLAGS_FRAG + 1];
  if (ff & FLAG_MF || ff & FRAG_OFFSET_MASK) return 12 /* IpFragment */;
  out2.headerLen = hlen;
  out2.totalLen = total;
  out2.id = buf[off + ID] << 8 | buf[off + ID + 1];
  out2.flagsFrag = ff;
  out2.ttl = buf[off + TTL];
  out2.proto = buf[off + PROTO];
  out2.src = read32(buf, off + SRC);
  out2.dst = read32(buf, off + DST);
  out2.payloadOff = off + hlen;
  out2.payloadLen = total - hlen;
  return 0 /* None */;
}
function emitIpv4(buf, off, src, dst, proto, payloadLen, id, ttl) {
  const total = IPV4_HLEN + payloadLen;
  buf[off + VER_IHL] = 69;
  buf[off + 1] = 0;
  buf[off + TOTAL_LEN] = total >>> 8;
  buf[off + TOTAL_LEN + 1] = total & 255;
  buf[off + ID] = id >>> 8 & 255;
  buf[off + ID + 1] = id & 255;
  buf[off + FLAGS_FRAG] = FLAG_DF >>> 8;
  buf[off + FLAGS_FRAG + 1] = 0;
  buf[off + TTL] = ttl;
  buf[off + PROTO] = proto;
  buf[off + CHECKSUM] = 0;
  buf[off + CHECKSUM + 1] = 0;
  write32(buf, off + SRC, src);
  write32(buf, off + DST, dst);
  const c = checksumFold(checksumAdd(buf, off, IPV4_HLEN, 0));
  buf[off + CHECKSUM] = c >>> 8;
  buf[off + CHECKSUM + 1] = c & 255;
  return IPV4_HLEN;
}

// src/stack/wire/tcp-options.ts
var OPT_EOL = 0;
var OPT_NOP = 1;
var OPT_MSS = 2;
var OPT_WSCALE = 3;
var OPT_SACK_PERMITTED = 4;
var OPT_SACK = 5;
var OPT_TIMESTAMP = 8;
var MAX_WSCALE = 14;
var TCP_MAX_SACK_BLOCKS = 4;
var TCP_MAX_OPTIONS_LEN = 40;
function read322(b, o) {
  return (b[o] << 24 | b[o + 1] << 16 | b[o + 2] << 8 | b[o + 3]) >>> 0;
}
function write322(b, o, v) {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16 & 255;
  b[o + 2] = v >>> 8 & 255;
  b[o + 3] = v & 255;
}
function resetTcpOptions(out2) {
  out2.mss = -1;
  out2.wscale = -1;
  out2.sackPermitted = false;
  out2.hasTimestamp = false;
  out2.tsVal = 0;
  out2.tsEcr = 0;
  out2.sackCount = 0;
}
function parseTcpOptions(buf, off, len, out2) {
  resetTcpOptions(out2);
  let i = off;
  const end = off + len;
  while (i < end) {
    const kind = buf[i];
    if (kind === OPT_EOL) break;
    if (kind === OPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) return 23 /* TcpBadOption */;
    const olen = buf[i + 1];
    if (olen < 2 || i + olen > end) return 23 /* TcpBadOption */;
    switch (kind) {
      case OPT_MSS:
        if (olen !== 4) return 23 /* TcpBadOption */;
        out2.mss = buf[i + 2] << 8 | buf[i + 3];
        break;
      case OPT_WSCALE: {
        if (olen !== 3) return 23 /* TcpBadOption */;
        const shift = buf[i + 2];
        out2.wscale = shift > MAX_WSCALE ? MAX_WSCALE : shift;
        break;
      }
      case OPT_SACK_PERMITTED:
        if (olen !== 2) return 23 /* TcpBadOption */;
        out2.sackPermitted = true;
        break;
      case OPT_SACK: {
        const n = olen - 2 >> 3;
        if (olen < 10 || (olen - 2) % 8 !== 0 || n > TCP_MAX_SACK_BLOCKS) return 23 /* TcpBadOption */;
        for (let k = 0; k < n; k++) {
          out2.sackLeft[k] = read322(buf, i + 2 + k * 8);
          out2.sackRight[k] = read322(buf, i + 6 + k * 8);
        }
        out2.sackCount = n;
        break;
      }
      case OPT_TIMESTAMP:
        if (olen !== 10) return 23 /* TcpBadOption */;
        out2.hasTimestamp = true;
        out2.tsVal = read322(buf, i + 2);
        out2.tsEcr = read322(buf, i + 6);
        break;
      default:
        break;
    }
    i += olen;
  }
  return 0 /* None */;
}
function sackBlocksThatFit(f, fixedLen) {
  if (f.sackCount === 0) return 0;
  const room = TCP_MAX_OPTIONS_LEN - fixedLen - 4;
  const n = Math.floor(room / 8);
  return Math.max(0, Math.min(n, f.sackCount, TCP_MAX_SACK_BLOCKS));
}
function fixedOptionsLen(f) {
  let n = 0;
  if (f.mss >= 0) n += 4;
  if (f.sackPermitted && f.hasTimestamp) n += 12;
  else {
    if (f.sackPermitted) n += 4;
    if (f.hasTimestamp) n += 12;
  }
  if (f.wscale >= 0) n += 4;
  return n;
}
function tcpOptionsLen(f) {
  const fixed = fixedOptionsLen(f);
  const sack = sackBlocksThatFit(f, fixed);
  return fixed + (sack > 0 ? 4 + sack * 8 : 0);
}
function emitTcpOptions(buf, off, f) {
  let i = off;
  if (f.mss >= 0) {
    buf[i] = OPT_MSS;
    buf[i + 1] = 4;
    buf[i + 2] = f.mss >>> 8;
    buf[i + 3] = f.mss & 255;
    i += 4;
  }
  if (f.sackPermitted && f.hasTimestamp) {
    buf[i] = OPT_SACK_PERMITTED;
    buf[i + 1] = 2;
    buf[i + 2] = OPT_TIMESTAMP;
    buf[i + 3] = 10;
    write322(buf, i + 4, f.tsVal);
    write322(buf, i + 8, f.tsEcr);
    i += 12;
  } else {
    if (f.sackPermitted) {
      buf[i] = OPT_NOP;
      buf[i + 1] = OPT_NOP;
      buf[i + 2] = OPT_SACK_PERMITTED;
      buf[i + 3] = 2;
      i += 4;
    }
    if (f.hasTimestamp) {
      buf[i] = OPT_NOP;
      buf[i + 1] = OPT_NOP;
      buf[i + 2] = OPT_TIMESTAMP;
      buf[i + 3] = 10;
      write322(buf, i + 4, f.tsVal);
      write322(buf, i + 8, f.tsEcr);
      i += 12;
    }
  }
  if (f.wscale >= 0) {
    buf[i] = OPT_NOP;
    buf[i + 1] = OPT_WSCALE;
    buf[i + 2] = 3;
    buf[i + 3] = f.wscale;
    i += 4;
  }
  const sack = sackBlocksThatFit(f, i - off);
  if (sack > 0) {
    buf[i] = OPT_NOP;
    buf[i + 1] = OPT_NOP;
    buf[i + 2] = OPT_SACK;
    buf[i + 3] = 2 + sack * 8;
    i += 4;
    for (let k = 0; k < sack; k++) {
      write322(buf, i, f.sackLeft[k]);
      write322(buf, i + 4, f.sackRight[k]);
      i += 8;
    }
  }
  return i - off;
}

// src/stack/wire/tcp.ts
var TCP_FIN = 1;
var TCP_SYN = 2;
var TCP_RST = 4;
var TCP_PSH = 8;
var TCP_ACK = 16;
var TCP_HLEN = 20;
var SRC_PORT = 0;
var DST_PORT = 2;
var SEQ = 4;
var ACK = 8;
var DATA_OFF = 12;
var FLAGS = 13;
var WINDOW = 14;
var CHECKSUM2 = 16;
var URGENT = 18;
var TcpFields = class {
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  /** Header length in bytes, options included. */
  headerLen = 0;
  flags = 0;
  /** Window field as sent (unscaled). */
  window = 0;
  urgent = 0;
  /** Absolute offset and length of the payload in the frame's buffer. */
  payloadOff = 0;
  payloadLen = 0;
  /** MSS option, -1 when absent. */
  mss = -1;
  /** Window scale shift, -1 when absent. */
  wscale = -1;
  sackPermitted = false;
  hasTimestamp = false;
  tsVal = 0;
  tsEcr = 0;
  /** SACK blocks present (0..4), as [left, right) pairs. */
  sackCount = 0;
  sackLeft = new Uint32Array(TCP_MAX_SACK_BLOCKS);
  sackRight = new Uint32Array(TCP_MAX_SACK_BLOCKS);
};
function read323(b, o) {
  return (b[o] << 24 | b[o + 1] << 16 | b[o + 2] << 8 | b[o + 3]) >>> 0;
}
function write323(b, o, v) {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16 & 255;
  b[o + 2] = v >>> 8 & 255;
  b[o + 3] = v & 255;
}
function tcpChecksumOk(buf, off, len, srcIp, dstIp) {
  return checksumFold(checksumAdd(buf, off, len, pseudoHeaderSum(srcIp, dstIp, IPPROTO_TCP, len))) === 0;
}
function parseTcp(buf, off, len, srcIp, dstIp, out2, verifyChecksum) {
  if (len < TCP_HLEN) return 20 /* TcpTooShort */;
  const hlen = buf[off + DATA_OFF] >>> 4 << 2;
  if (hlen < TCP_HLEN || hlen > len) return 21 /* TcpBadDataOffset */;
  if (verifyChecksum && !tcpChecksumOk(buf, off, len, srcIp, dstIp)) return 22 /* TcpBadChecksum */;
  out2.srcPort = buf[off + SRC_PORT] << 8 | buf[off + SRC_PORT + 1];
  out2.dstPort = buf[off + DST_PORT] << 8 | buf[off + DST_PORT + 1];
  out2.seq = read323(buf, off + SEQ);
  out2.ack = read323(buf, off + ACK);
  out2.headerLen = hlen;
  out2.flags = buf[off + FLAGS];
  out2.window = buf[off + WINDOW] << 8 | buf[off + WINDOW + 1];
  out2.urgent = buf[off + URGENT] << 8 | buf[off + URGENT + 1];
  out2.payloadOff = off + hlen;
  out2.payloadLen = len - hlen;
  return parseTcpOptions(buf, off + TCP_HLEN, hlen - TCP_HLEN, out2);
}
function tcpHeaderLen(f) {
  return TCP_HLEN + tcpOptionsLen(f);
}
function emitTcp(buf, off, f, srcIp, dstIp, payloadLen) {
  const optLen = emitTcpOptions(buf, off + TCP_HLEN, f);
  const hlen = TCP_HLEN + optLen;
  buf[off + SRC_PORT] = f.srcPort >>> 8;
  buf[off + SRC_PORT + 1] = f.srcPort & 255;
  buf[off + DST_PORT] = f.dstPort >>> 8;
  buf[off + DST_PORT + 1] = f.dstPort & 255;
  write323(buf, off + SEQ, f.seq);
  write323(buf, off + ACK, f.ack);
  buf[off + DATA_OFF] = hlen >>> 2 << 4;
  buf[off + FLAGS] = f.flags;
  buf[off + WINDOW] = f.window >>> 8;
  buf[off + WINDOW + 1] = f.window & 255;
  buf[off + CHECKSUM2] = 0;
  buf[off + CHECKSUM2 + 1] = 0;
  buf[off + URGENT] = f.urgent >>> 8;
  buf[off + URGENT + 1] = f.urgent & 255;
  const len = hlen + payloadLen;
  const c = checksumFold(checksumAdd(buf, off, len, pseudoHeaderSum(srcIp, dstIp, IPPROTO_TCP, len)));
  buf[off + CHECKSUM2] = c >>> 8;
  buf[off + CHECKSUM2 + 1] = c & 255;
  return hlen;
}

// src/stack/wire/seqnum.ts
function seqLt(a, b) {
  return (a - b | 0) < 0;
}
function seqLe(a, b) {
  return (a - b | 0) <= 0;
}
function seqGt(a, b) {
  return (a - b | 0) > 0;
}
function seqGe(a, b) {
  return (a - b | 0) >= 0;
}
function seqAdd(a, n) {
  return a + n >>> 0;
}
function seqDiff(a, b) {
  return a - b | 0;
}

// src/stack/tcp/isn.ts
var IsnGenerator = class {
  #k0;
  #k1;
  /** `key0`/`key1`: the secret key (two uint32s), random per context. */
  constructor(key0, key1) {
    this.#k0 = key0 >>> 0;
    this.#k1 = key1 >>> 0;
  }
  /** The ISN for a connection at time `nowMs`. */
  next(localIp, localPort, remoteIp, remotePort, nowMs) {
    const m = Math.floor(nowMs * 250);
    const f = halfSipHash24(this.#k0, this.#k1, localIp, remoteIp, (localPort << 16 | remotePort) >>> 0);
    return m + f >>> 0;
  }
};
function rotl(x, b) {
  return (x << b | x >>> 32 - b) >>> 0;
}
function halfSipHash24(k0, k1, w0, w1, w2) {
  let v0 = k0 >>> 0;
  let v1 = k1 >>> 0;
  let v2 = (1819895653 ^ k0) >>> 0;
  let v3 = (1952801890 ^ k1) >>> 0;
  const round = () => {
    v0 = v0 + v1 >>> 0;
    v1 = rotl(v1, 5);
    v1 = (v1 ^ v0) >>> 0;
    v0 = rotl(v0, 16);
    v2 = v2 + v3 >>> 0;
    v3 = rotl(v3, 8);
    v3 = (v3 ^ v2) >>> 0;
    v0 = v0 + v3 >>> 0;
    v3 = rotl(v3, 7);
    v3 = (v3 ^ v0) >>> 0;
    v2 = v2 + v1 >>> 0;
    v1 = rotl(v1, 13);
    v1 = (v1 ^ v2) >>> 0;
    v2 = rotl(v2, 16);
  };
  const absorb = (m) => {
    v3 = (v3 ^ m) >>> 0;
    round();
    round();
    v0 = (v0 ^ m) >>> 0;
  };
  absorb(w0 >>> 0);
  absorb(w1 >>> 0);
  absorb(w2 >>> 0);
  absorb(12 << 24 >>> 0);
  v2 = (v2 ^ 255) >>> 0;
  round();
  round();
  round();
  round();
  return (v1 ^ v3) >>> 0;
}

// src/stack/tcp/output.ts
var MAX_WINDOW_FIELD = 65535;
function finSeq(t) {
  return seqAdd(t.sndUna, t.sndBuf.length);
}
function unsentBytes(t) {
  const sentData = seqDiff(t.sndNxt, t.sndUna);
  const unsent = t.sndBuf.length - sentData;
  return unsent > 0 ? unsent : 0;
}
function receiveWindow(t) {
  const free = t.rcvBuf.free;
  const advertised = seqDiff(t.rcvAdvRight, t.rcvNxt);
  const grow = free - (advertised > 0 ? advertised : 0);
  const threshold = Math.min(t.rcvBuf.capacity >>> 1, t.sndMss);
  let wnd = grow >= threshold || advertised <= 0 && grow > 0 ? free : advertised;
  if (wnd < 0) wnd = 0;
  const max = MAX_WINDOW_FIELD << t.rcvWscale;
  return wnd > max ? max : wnd;
}
function sendSegment(e, t, seq, flags, dataLen) {
  const f = e.out;
  const syn = (flags & TCP_SYN) !== 0;
  f.srcPort = t.localPort;
  f.dstPort = t.remotePort;
  f.seq = seq;
  f.ack = flags & TCP_ACK ? t.rcvNxt : 0;
  f.flags = flags;
  f.urgent = 0;
  let wnd = receiveWindow(t);
  if (syn) {
    f.window = wnd > MAX_WINDOW_FIELD ? MAX_WINDOW_FIELD : wnd;
    const offer = t.state === 2 /* SynSent */;
    f.mss = e.localMss;
    f.wscale = offer || t.wsOk ? t.rcvWscale : -1;
    f.sackPermitted = offer || t.sackOk;
    f.hasTimestamp = offer || t.tsOk;
  } else {
    wnd >>>= t.rcvWscale;
    f.window = wnd;
    wnd <<= t.rcvWscale;
    f.mss = -1;
    f.wscale = -1;
    f.sackPermitted = false;
    f.hasTimestamp = t.tsOk;
  }
  f.tsVal = e.tsNow();
  f.tsEcr = flags & TCP_ACK ? t.tsRecent : 0;
  f.sackCount = 0;
  const hlen = tcpHeaderLen(f);
  if (!e.ip.beginTcp(t.remoteIp)) return false;
  const buf = e.ip.txBuf;
  const off = e.ip.txOff;
  if (dataLen > 0) t.sndBuf.copyOut(seqDiff(seq, t.sndUna), buf, off + hlen, dataLen);
  emitTcp(buf, off, f, t.localIp, t.remoteIp, dataLen);
  e.ip.endTcp(t.localIp, t.remoteIp, hlen + dataLen);
  e.stats.tcpOutSegs++;
  if (flags & TCP_ACK) {
    t.lastAckSent = t.rcvNxt;
    t.ackPending = false;
    t.unackedSegments = 0;
    if (!syn) {
      const right = seqAdd(t.rcvNxt, wnd);
      if (seqGt(right, t.rcvAdvRight)) t.rcvAdvRight = right;
    } else {
      t.rcvAdvRight = seqAdd(t.rcvNxt, f.window);
    }
  }
  const seqLen = dataLen + (syn ? 1 : 0) + (flags & TCP_FIN ? 1 : 0);
  if (seqLen > 0) {
    const end = seqAdd(seq, seqLen);
    const retransmission = seqLt(seq, t.sndMax);
    if (retransmission) {
      e.stats.tcpRetransmits++;
      if (t.rttTiming && !seqLt(t.rttSeq, seq)) t.rttTiming = false;
    } else if (!t.tsOk && !t.rttTiming) {
      t.rttTiming = true;
      t.rttSeq = seq;
      t.rttSentAt = e.now;
    }
    if (seqGt(end, t.sndMax)) t.sndMax = end;
    if (seqGt(end, t.sndNxt)) t.sndNxt = end;
    if (t.rtoAt < 0) e.armRto(t);
  }
  return true;
}
function ackSeq(t) {
  const edge = seqAdd(t.sndUna, t.sndWnd);
  return seqGt(t.sndMax, edge) ? edge : t.sndMax;
}
function sendAck(e, t) {
  return sendSegment(e, t, ackSeq(t), TCP_ACK, 0);
}
function sendAbortRst(e, t) {
  if (sendSegment(e, t, ackSeq(t), TCP_RST | TCP_ACK, 0)) e.stats.tcpRstSent++;
}
function output(e, t) {
  switch (t.state) {
    case 0 /* Closed */:
    case 1 /* Listen */:
    case 10 /* TimeWait */:
      if (t.ackPending && t.state === 10 /* TimeWait */) return sendAck(e, t);
      return true;
    case 2 /* SynSent */:
      if (t.sndNxt === t.iss) return sendSegment(e, t, t.iss, TCP_SYN, 0);
      return true;
    case 3 /* SynReceived */:
      if (t.sndNxt === t.iss) return sendSegment(e, t, t.iss, TCP_SYN | TCP_ACK, 0);
      if (t.ackPending) return sendAck(e, t);
      return true;
    default:
      break;
  }
  let sentAny = false;
  const finPending = t.finQueued && (t.state === 5 /* FinWait1 */ || t.state === 8 /* Closing */ || t.state === 9 /* LastAck */);
  const mss = e.effectiveMss(t);
  const wnd = t.sndWnd < t.cc.cwnd ? t.sndWnd : t.cc.cwnd;
  let usable = seqDiff(seqAdd(t.sndUna, wnd), t.sndNxt);
  let unsent = unsentBytes(t);
  const fin = finPending ? finSeq(t) : -1;
  while (unsent > 0 && usable > 0) {
    let n = unsent < mss ? unsent : mss;
    if (n > usable) n = usable;
    const last = n === unsent;
    let flags = TCP_ACK;
    if (last) flags |= TCP_PSH;
    if (last && finPending) flags |= TCP_FIN;
    if (!sendSegment(e, t, t.sndNxt, flags, n)) return false;
    if (flags & TCP_FIN) t.finSent = true;
    sentAny = true;
    unsent -= n;
    usable -= n;
  }
  if (finPending && t.sndNxt === fin && unsent === 0) {
    if (!sendSegment(e, t, t.sndNxt, TCP_ACK | TCP_FIN, 0)) return false;
    t.finSent = true;
    sentAny = true;
  }
  if (unsent > 0 && t.sndWnd === 0 && t.sndMax === t.sndUna && t.rtoAt < 0) {
    e.armRto(t);
  }
  if (!sentAny && t.ackPending) return sendAck(e, t);
  return true;
}
function retransmitFirst(e, t) {
  const outstanding = seqDiff(t.sndMax, t.sndUna);
  const inBuf = t.sndBuf.length;
  let n = inBuf < outstanding ? inBuf : outstanding;
  const mss = e.effectiveMss(t);
  if (n > mss) n = mss;
  const fin = finSeq(t);
  const finOutstanding = t.finSent && seqGt(t.sndMax, fin);
  let flags = TCP_ACK;
  if (finOutstanding && n === inBuf) flags |= TCP_FIN;
  if (n === 0 && !(flags & TCP_FIN)) return;
  sendSegment(e, t, t.sndUna, flags, n);
}

// src/stack/tcp/input.ts
var DEFAULT_MSS = 536;
var PAWS_IDLE_MS = 24 * 24 * 3600 * 1e3;
var OOW_ACK_INTERVAL_MS = 500;
function ackUnacceptable(e, t, carriesData) {
  if (!carriesData) {
    if (e.now - t.lastOowAckAt < OOW_ACK_INTERVAL_MS) return;
    t.lastOowAckAt = e.now;
  }
  sendAck(e, t);
}
function negotiateOptions(e, t, seg) {
  const peerMss = seg.mss > 0 ? seg.mss : DEFAULT_MSS;
  t.sndMss = peerMss < e.localMss ? peerMss : e.localMss;
  if (seg.wscale >= 0) {
    t.wsOk = true;
    t.sndWscale = seg.wscale;
    t.rcvWscale = e.localWscale;
  } else {
    t.wsOk = false;
    t.sndWscale = 0;
    t.rcvWscale = 0;
  }
  t.tsOk = seg.hasTimestamp;
  if (t.tsOk) {
    t.tsRecent = seg.tsVal;
    t.tsRecentAt = e.now;
  }
  t.sackOk = seg.sackPermitted;
}
function sampleRtt(e, t, seg, ack) {
  if (t.tsOk && seg.hasTimestamp && seg.tsEcr !== 0) {
    const rtt = seqDiff(e.tsNow(), seg.tsEcr);
    if (rtt >= 0) t.rtt.sample(rtt);
    t.rttTiming = false;
  } else if (t.rttTiming && seqGt(ack, t.rttSeq)) {
    t.rtt.sample(e.now - t.rttSentAt);
    t.rttTiming = false;
  }
}
function listenSegmentArrives(e, l, seg, srcIp, dstIp) {
  const flags = seg.flags;
  if (flags & TCP_RST) return 26 /* TcpListenNotSyn */;
  if (flags & TCP_ACK) {
    e.sendResetFor(seg, srcIp, dstIp);
    return 26 /* TcpListenNotSyn */;
  }
  if (!(flags & TCP_SYN)) return 26 /* TcpListenNotSyn */;
  if (flags & TCP_FIN) return 24 /* TcpBadFlags */;
  if (l.halfOpen + l.queueCount >= l.backlog) return 27 /* TcpBacklogFull */;
  const t = e.allocate();
  if (!t) return 28 /* TcpNoMemory */;
  t.localIp = dstIp;
  t.localPort = seg.dstPort;
  t.remoteIp = srcIp;
  t.remotePort = seg.srcPort;
  t.listenerSockid = l.sockid;
  t.irs = seg.seq;
  t.rcvNxt = seqAdd(seg.seq, 1);
  negotiateOptions(e, t, seg);
  t.sndWnd = seg.window;
  t.maxSndWnd = t.sndWnd;
  t.sndWl1 = seg.seq;
  t.iss = e.isn.next(dstIp, seg.dstPort, srcIp, seg.srcPort, e.now);
  t.sndUna = t.sndNxt = t.sndMax = t.iss;
  t.sndWl2 = t.iss;
  t.cc.init(e.effectiveMss(t), e.now);
  if (!e.flows.insert(dstIp, seg.dstPort, srcIp, seg.srcPort, t.id)) {
    e.terminate(t);
    return 28 /* TcpNoMemory */;
  }
  e.setState(t, 3 /* SynReceived */);
  l.halfOpen++;
  e.touchIdle(t);
  e.scheduleOutput(t);
  return 0 /* None */;
}
function synSentArrives(e, t, seg) {
  const flags = seg.flags;
  let ackOk = false;
  if (flags & TCP_ACK) {
    if (seqLe(seg.ack, t.iss) || seqGt(seg.ack, t.sndMax)) {
      if (!(flags & TCP_RST)) e.sendResetFor(seg, t.remoteIp, t.localIp);
      return 30 /* TcpBadAck */;
    }
    ackOk = true;
  }
  if (flags & TCP_RST) {
    if (!ackOk) return 31 /* TcpBadRst */;
    e.stats.tcpRstReceived++;
    e.fail(t, ECONNREFUSED, false);
    return 0 /* None */;
  }
  if (!(flags & TCP_SYN)) return 24 /* TcpBadFlags */;
  t.irs = seg.seq;
  t.rcvNxt = seqAdd(seg.seq, 1);
  negotiateOptions(e, t, seg);
  t.sndWnd = seg.window;
  t.maxSndWnd = t.sndWnd;
  t.sndWl1 = seg.seq;
  t.sndWl2 = seg.ack;
  e.touchIdle(t);
  if (ackOk) {
    sampleRtt(e, t, seg, seg.ack);
    t.sndUna = seg.ack;
    t.retries = 0;
    e.stopRto(t);
    e.setState(t, 4 /* Established */);
    t.cc.init(e.effectiveMss(t), e.now);
    t.ackPending = true;
    e.scheduleOutput(t);
    if (t.sockid >= 0) e.events.wake(t.sockid, MTCP_EPOLLOUT);
  } else {
    e.setState(t, 3 /* SynReceived */);
    t.sndNxt = t.iss;
    e.scheduleOutput(t);
  }
  return 0 /* None */;
}
function segmentArrives(e, t, buf, seg) {
  if (t.state === 2 /* SynSent */) return synSentArrives(e, t, seg);
  if (t.state === 0 /* Closed */) return 34 /* TcpAfterClose */;
  const flags = seg.flags;
  if (t.state === 3 /* SynReceived */ && (flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN && seg.seq === t.irs) {
    t.sndNxt = t.iss;
    e.scheduleOutput(t);
    return 0 /* None */;
  }
  if (t.tsOk && seg.hasTimestamp && !(flags & TCP_RST) && seqLt(seg.tsVal, t.tsRecent) && e.now - t.tsRecentAt < PAWS_IDLE_MS) {
    ackUnacceptable(e, t, seg.payloadLen > 0);
    return 32 /* TcpPawsReject */;
  }
  let seq = seg.seq;
  let off = seg.payloadOff;
  let len = seg.payloadLen;
  let fin = (flags & TCP_FIN) !== 0;
  const segLen = len + (flags & TCP_SYN ? 1 : 0) + (fin ? 1 : 0);
  const advertised = seqDiff(t.rcvAdvRight, t.rcvNxt);
  const free = t.rcvBuf.free;
  const wnd = advertised > free ? advertised : free > 0 ? free : 0;
  let acceptable;
  if (segLen === 0) {
    const d = seqDiff(seq, t.rcvNxt);
    acceptable = d >= 0 && d <= wnd;
  } else {
    acceptable = wnd > 0 && (inWindow(seq, t.rcvNxt, wnd) || inWindow(seqAdd(seq, segLen - 1), t.rcvNxt, wnd));
  }
  if (!acceptable) {
    if (wnd === 0 && seq === t.rcvNxt) {
      len = 0;
      fin = false;
    } else {
      if (!(flags & TCP_RST)) {
        if (t.state === 10 /* TimeWait */ && fin) e.restartTimeWait(t);
        ackUnacceptable(e, t, segLen > 0);
      }
      return 29 /* TcpOutOfWindow */;
    }
  }
  let before = seqDiff(t.rcvNxt, seq);
  if (before > 0) {
    if (flags & TCP_SYN) before--;
    if (before > len) {
      fin = false;
      len = 0;
    } else {
      off += before;
      len -= before;
    }
    seq = t.rcvNxt;
  }
  const room = wnd - seqDiff(seq, t.rcvNxt);
  if (len > room) {
    len = room > 0 ? room : 0;
    fin = false;
  }
  e.touchIdle(t);
  if (t.tsOk && seg.hasTimestamp && seqGe(seg.tsVal, t.tsRecent) && seqLe(seg.seq, t.lastAckSent)) {
    t.tsRecent = seg.tsVal;
    t.tsRecentAt = e.now;
  }
  if (flags & TCP_RST) {
    if (seg.seq !== t.rcvNxt) {
      ackUnacceptable(e, t, false);
      return 31 /* TcpBadRst */;
    }
    e.stats.tcpRstReceived++;
    switch (t.state) {
      case 3 /* SynReceived */:
        if (t.listenerSockid >= 0) e.terminate(t);
        else e.fail(t, ECONNREFUSED, false);
        break;
      case 4 /* Established */:
      case 5 /* FinWait1 */:
      case 6 /* FinWait2 */:
      case 7 /* CloseWait */:
        e.fail(t, ECONNRESET, false);
        break;
      default:
        e.terminate(t);
    }
    return 0 /* None */;
  }
  if (flags & TCP_SYN) {
    ackUnacceptable(e, t, false);
    return 33 /* TcpSynInWindow */;
  }
  if (!(flags & TCP_ACK)) return 30 /* TcpBadAck */;
  const ack = seg.ack;
  if (t.state === 3 /* SynReceived */) {
    if (!(seqLt(t.sndUna, ack) && seqLe(ack, t.sndMax))) {
      e.sendResetFor(seg, t.remoteIp, t.localIp);
      return 30 /* TcpBadAck */;
    }
    sampleRtt(e, t, seg, ack);
    t.sndUna = seqAdd(t.iss, 1);
    t.retries = 0;
    e.stopRto(t);
    t.sndWnd = seg.window << t.sndWscale;
    t.maxSndWnd = t.sndWnd;
    t.sndWl1 = seg.seq;
    t.sndWl2 = ack;
    e.setState(t, 4 /* Established */);
    if (t.listenerSockid >= 0) e.enqueueAccepted(t);
    else if (t.sockid >= 0) e.events.wake(t.sockid, MTCP_EPOLLOUT);
    if (!t.inUse) return 0 /* None */;
  }
  if (seqGt(ack, t.sndMax) || seqLt(ack, seqAdd(t.sndUna, -t.maxSndWnd))) {
    ackUnacceptable(e, t, len > 0);
    return 30 /* TcpBadAck */;
  }
  processAck(e, t, seg, len, fin);
  if (!t.inUse || t.state === 0 /* Closed */) return 0 /* None */;
  if (len > 0) {
    if (t.state === 4 /* Established */ || t.state === 5 /* FinWait1 */ || t.state === 6 /* FinWait2 */) {
      if (t.sockid < 0 && !t.inAcceptQueue) {
        e.fail(t, ECONNRESET, true);
        return 0 /* None */;
      }
      const rel = seqDiff(seq, t.rcvNxt);
      const grew = t.rcvBuf.insert(rel, buf, off, len);
      if (grew < 0) e.stats.drops[35 /* TcpOooFull */]++;
      if (grew > 0) {
        t.rcvNxt = seqAdd(t.rcvNxt, grew);
        if (t.sockid >= 0) e.events.wake(t.sockid, MTCP_EPOLLIN);
        if (t.oooFinPending && t.rcvNxt === t.oooFinSeq) {
          t.oooFinPending = false;
          finArrives(e, t);
          return 0 /* None */;
        }
      }
      if (rel > 0 || t.rcvBuf.oooCount > 0) {
        sendAck(e, t);
      } else if (++t.unackedSegments >= 2) {
        sendAck(e, t);
      } else {
        t.ackPending = true;
        e.scheduleOutput(t);
      }
    }
  }
  if (fin) {
    const finAt = seqAdd(seq, len);
    if (finAt !== t.rcvNxt) {
      t.oooFinPending = true;
      t.oooFinSeq = finAt;
      return 0 /* None */;
    }
    finArrives(e, t);
  }
  return 0 /* None */;
}
function inWindow(seq, lo, len) {
  const d = seqDiff(seq, lo);
  return d >= 0 && d < len;
}
function processAck(e, t, seg, len, fin) {
  const ack = seg.ack;
  const segWnd = seg.window << t.sndWscale;
  const mss = e.effectiveMss(t);
  if (seqGt(ack, t.sndUna)) {
    const acked = seqDiff(ack, t.sndUna);
    sampleRtt(e, t, seg, ack);
    const dataAcked = acked < t.sndBuf.length ? acked : t.sndBuf.length;
    t.sndBuf.consume(dataAcked);
    t.sndUna = ack;
    if (seqLt(t.sndNxt, ack)) t.sndNxt = ack;
    t.retries = 0;
    if (t.inRecovery) {
      if (seqGe(ack, t.recover)) {
        t.inRecovery = false;
        t.dupAcks = 0;
        t.cc.onExitRecovery(mss, e.now);
      } else {
        retransmitFirst(e, t);
        t.cc.cwnd = Math.max(t.cc.cwnd - acked + (acked >= mss ? mss : 0), mss);
      }
    } else {
      t.dupAcks = 0;
      t.cc.onAck(acked, mss, e.now);
    }
    if (t.sndMax === t.sndUna) e.stopRto(t);
    else e.armRto(t);
    if (dataAcked > 0 && t.sockid >= 0) e.events.wake(t.sockid, MTCP_EPOLLOUT);
    if (unsentBytes(t) > 0 || t.finQueued) e.scheduleOutput(t);
  } else if (ack === t.sndUna && len === 0 && !fin && t.sndMax !== t.sndUna && segWnd === t.sndWnd) {
    t.dupAcks++;
    if (t.dupAcks === 3 && !t.inRecovery) {
      t.inRecovery = true;
      t.recover = t.sndMax;
      t.cc.onEnterRecovery(t.flightSize, mss, e.now);
      retransmitFirst(e, t);
    } else if (t.dupAcks > 3 && t.inRecovery) {
      t.cc.cwnd += mss;
      e.scheduleOutput(t);
    }
  }
  if (seqLt(t.sndWl1, seg.seq) || t.sndWl1 === seg.seq && seqLe(t.sndWl2, ack)) {
    if (segWnd > t.sndWnd && unsentBytes(t) > 0) e.scheduleOutput(t);
    t.sndWnd = segWnd;
    if (segWnd > t.maxSndWnd) t.maxSndWnd = segWnd;
    t.sndWl1 = seg.seq;
    t.sndWl2 = ack;
  }
  const finAcked = t.finSent && t.sndUna === t.sndMax;
  switch (t.state) {
    case 5 /* FinWait1 */:
      if (finAcked) e.setState(t, 6 /* FinWait2 */);
      break;
    case 8 /* Closing */:
      if (finAcked) e.enterTimeWait(t);
      break;
    case 9 /* LastAck */:
      if (finAcked) e.terminate(t);
      break;
    default:
      break;
  }
}
function finArrives(e, t) {
  if (t.finReceived) {
    sendAck(e, t);
    return;
  }
  t.rcvNxt = seqAdd(t.rcvNxt, 1);
  t.finReceived = true;
  if (t.sockid >= 0) e.events.wake(t.sockid, MTCP_EPOLLIN | MTCP_EPOLLRDHUP);
  switch (t.state) {
    case 3 /* SynReceived */:
    case 4 /* Established */:
      e.setState(t, 7 /* CloseWait */);
      t.ackPending = true;
      e.scheduleOutput(t);
      break;
    case 5 /* FinWait1 */:
      if (t.finSent && t.sndUna === t.sndMax) {
        e.enterTimeWait(t);
      } else {
        e.setState(t, 8 /* Closing */);
        sendAck(e, t);
      }
      break;
    case 6 /* FinWait2 */:
      e.enterTimeWait(t);
      break;
    default:
      sendAck(e, t);
  }
}

// src/stack/tcp/rtt.ts
var RTO_INITIAL_MS = 1e3;
var RTO_MIN_MS = 200;
var RTO_MAX_MS = 6e4;
var CLOCK_GRANULARITY_MS = 1;
var RttEstimator = class {
  /** Smoothed round-trip time, ms; 0 until the first sample. */
  srtt = 0;
  /** Round-trip time variation, ms. */
  rttvar = 0;
  /** Current retransmission timeout, ms, backoff included. */
  rtoMs = RTO_INITIAL_MS;
  /** Number of samples taken. */
  samples = 0;
  reset() {
    this.srtt = 0;
    this.rttvar = 0;
    this.rtoMs = RTO_INITIAL_MS;
    this.samples = 0;
  }
  /** Feed one RTT measurement (ms). RFC 6298 (2.2), (2.3). */
  sample(rttMs) {
    if (rttMs < 0) return;
    if (this.samples === 0) {
      this.srtt = rttMs;
      this.rttvar = rttMs / 2;
    } else {
      const err = this.srtt - rttMs;
      this.rttvar = 0.75 * this.rttvar + 0.25 * (err < 0 ? -err : err);
      this.srtt = 0.875 * this.srtt + 0.125 * rttMs;
    }
    this.samples++;
    this.rtoMs = clampRto(this.srtt + Math.max(CLOCK_GRANULARITY_MS, 4 * this.rttvar));
  }
  /** Double the RTO after a timeout. RFC 6298 (5.5). */
  backoff() {
    this.rtoMs = clampRto(this.rtoMs * 2);
  }
};
function clampRto(ms) {
  return ms < RTO_MIN_MS ? RTO_MIN_MS : ms > RTO_MAX_MS ? RTO_MAX_MS : ms;
}

// src/stack/tcp/send-buffer.ts
var SendBuffer = class {
  #pool = null;
  #slot = -1;
  /** Arena and offset of the slot. */
  #bytes = new Uint8Array(0);
  #base = 0;
  #capacity = 0;
  /** Ring position of the oldest byte. */
  #head = 0;
  #length = 0;
  attach(pool) {
    if (this.#pool) return true;
    const slot = pool.alloc();
    if (slot < 0) return false;
    this.#pool = pool;
    this.#slot = slot;
    this.#bytes = pool.bytes;
    this.#base = slot * pool.size;
    this.#capacity = pool.size;
    this.#head = 0;
    this.#length = 0;
    return true;
  }
  detach() {
    if (!this.#pool) return;
    this.#pool.free(this.#slot);
    this.#pool = null;
    this.#slot = -1;
    this.#capacity = 0;
    this.#head = 0;
    this.#length = 0;
  }
  get attached() {
    return this.#pool !== null;
  }
  get capacity() {
    return this.#capacity;
  }
  get length() {
    return this.#length;
  }
  get free() {
    return this.#capacity - this.#length;
  }
  /** Append up to len bytes; returns how many fit. */
  write(src, off, len) {
    const n = len < this.free ? len : this.free;
    if (n <= 0) return 0;
    const cap = this.#capacity;
    let pos = this.#head + this.#length;
    if (pos >= cap) pos -= cap;
    const first = n < cap - pos ? n : cap - pos;
    this.#bytes.set(src.subarray(off, off + first), this.#base + pos);
    if (first < n) this.#bytes.set(src.subarray(off + first, off + n), this.#base);
    this.#length += n;
    return n;
  }
  /** Drop n acknowledged bytes from the head. */
  consume(n) {
    if (n <= 0) return;
    if (n > this.#length) n = this.#length;
    this.#head += n;
    if (this.#head >= this.#capacity) this.#head -= this.#capacity;
    this.#length -= n;
    if (this.#length === 0) this.#head = 0;
  }
  /** Copy len bytes starting `offset` bytes past the head into dst. */
  copyOut(offset, dst, dstOff, len) {
    const cap = this.#capacity;
    let pos = this.#head + offset;
    if (pos >= cap) pos -= cap;
    const b = this.#bytes;
    const base = this.#base;
    const first = len < cap - pos ? len : cap - pos;
    dst.set(b.subarray(base + pos, base + pos + first), dstOff);
    if (first < len) dst.set(b.subarray(base, base + len - first), dstOff + first);
  }
};

// src/stack/tcp/recv-buffer.ts
var RECV_MAX_OOO_RANGES = 32;
var RecvBuffer = class {
  #pool = null;
  #slot = -1;
  #bytes = new Uint8Array(0);
  #base = 0;
  #capacity = 0;
  /** Ring position of the first in-order byte. */
  #head = 0;
  /** In-order bytes held. */
  #readable = 0;
  /** Stream offset of the byte at #head (counts every byte ever received in order). */
  #headOffset = 0;
  /** Out-of-order ranges as absolute stream offsets [start, end), sorted, disjoint, non-adjacent. */
  #oooStart = new Float64Array(RECV_MAX_OOO_RANGES);
  #oooEnd = new Float64Array(RECV_MAX_OOO_RANGES);
  #oooCount = 0;
  attach(pool) {
    if (this.#pool) return true;
    const slot = pool.alloc();
    if (slot < 0) return false;
    this.#pool = pool;
    this.#slot = slot;
    this.#bytes = pool.bytes;
    this.#base = slot * pool.size;
    this.#capacity = pool.size;
    this.#reset();
    return true;
  }
  detach() {
    if (!this.#pool) return;
    this.#pool.free(this.#slot);
    this.#pool = null;
    this.#slot = -1;
    this.#capacity = 0;
    this.#reset();
  }
  #reset() {
    this.#head = 0;
    this.#readable = 0;
    this.#headOffset = 0;
    this.#oooCount = 0;
  }
  get attached() {
    return this.#pool !== null;
  }
  get capacity() {
    return this.#capacity;
  }
  get readable() {
    return this.#readable;
  }
  get free() {
    return this.#capacity - this.#readable;
  }
  get oooCount() {
    return this.#oooCount;
  }
  /** Start of out-of-order range i, relative to the end of the in-order data. */
  oooStart(i) {
    return this.#oooStart[i] - this.#endOffset();
  }
  oooEnd(i) {
    return this.#oooEnd[i] - this.#endOffset();
  }
  get oooBytes() {
    let n = 0;
    for (let i = 0; i < this.#oooCount; i++) n += this.#oooEnd[i] - this.#oooStart[i];
    return n;
  }
  dropOoo() {
    this.#oooCount = 0;
  }
  #endOffset() {
    return this.#headOffset + this.#readable;
  }
  /** Copy len bytes to ring position `rel` bytes past the end of the in-order data. */
  #store(rel, src, srcOff, len) {
    const cap = this.#capacity;
    let pos = this.#head + this.#readable + rel;
    while (pos >= cap) pos -= cap;
    const first = len < cap - pos ? len : cap - pos;
    this.#bytes.set(src.subarray(srcOff, srcOff + first), this.#base + pos);
    if (first < len) this.#bytes.set(src.subarray(srcOff + first, srcOff + len), this.#base);
  }
  insert(rel, src, srcOff, len) {
    const room = this.free - rel;
    if (len > room) len = room;
    if (len <= 0 || rel < 0) return 0;
    if (rel > 0) return this.#insertOoo(rel, src, srcOff, len);
    this.#store(0, src, srcOff, len);
    const before = this.#readable;
    this.#readable += len;
    let end = this.#endOffset();
    let drop = 0;
    while (drop < this.#oooCount && this.#oooStart[drop] <= end) {
      if (this.#oooEnd[drop] > end) {
        this.#readable += this.#oooEnd[drop] - end;
        end = this.#oooEnd[drop];
      }
      drop++;
    }
    if (drop > 0) this.#removeRanges(0, drop);
    return this.#readable - before;
  }
  #insertOoo(rel, src, srcOff, len) {
    const start = this.#endOffset() + rel;
    const end = start + len;
    const n = this.#oooCount;
    let i = 0;
    while (i < n && this.#oooEnd[i] < start) i++;
    let j = i;
    while (j < n && this.#oooStart[j] <= end) j++;
    if (i === j && n === RECV_MAX_OOO_RANGES) return -1;
    this.#store(rel, src, srcOff, len);
    const newStart = i < j && this.#oooStart[i] < start ? this.#oooStart[i] : start;
    const newEnd = i < j && this.#oooEnd[j - 1] > end ? this.#oooEnd[j - 1] : end;
    if (i === j) {
      for (let k = n; k > i; k--) {
        this.#oooStart[k] = this.#oooStart[k - 1];
        this.#oooEnd[k] = this.#oooEnd[k - 1];
      }
      this.#oooCount++;
    } else if (j - i > 1) {
      this.#removeRanges(i + 1, j - i - 1);
    }
    this.#oooStart[i] = newStart;
    this.#oooEnd[i] = newEnd;
    return 0;
  }
  #removeRanges(from, count) {
    const n = this.#oooCount;
    for (let k = from; k + count < n; k++) {
      this.#oooStart[k] = this.#oooStart[k + count];
      this.#oooEnd[k] = this.#oooEnd[k + count];
    }
    this.#oooCount = n - count;
  }
  #copyOut(dst, dstOff, n) {
    const cap = this.#capacity;
    const pos = this.#head;
    const first = n < cap - pos ? n : cap - pos;
    dst.set(this.#bytes.subarray(this.#base + pos, this.#base + pos + first), dstOff);
    if (first < n) dst.set(this.#bytes.subarray(this.#base, this.#base + n - first), dstOff + first);
  }
  read(dst, dstOff, len) {
    const n = len < this.#readable ? len : this.#readable;
    if (n <= 0) return 0;
    this.#copyOut(dst, dstOff, n);
    this.#head += n;
    if (this.#head >= this.#capacity) this.#head -= this.#capacity;
    this.#readable -= n;
    this.#headOffset += n;
    return n;
  }
  peek(dst, dstOff, len) {
    const n = len < this.#readable ? len : this.#readable;
    if (n <= 0) return 0;
    this.#copyOut(dst, dstOff, n);
    return n;
  }
};

// src/stack/tcp/tcb.ts
var Tcb = class {
  constructor(id, cc) {
    this.cc = cc;
    this.id = id;
  }
  cc;
  /** Index in the context's TCB pool (also its timer-wheel id). */
  id;
  /** Current state; change only through TcpEngine.setState(). */
  state = 0 /* Closed */;
  /** Whether the block is allocated. */
  inUse = false;
  // Connection identity
  localIp = 0;
  localPort = 0;
  remoteIp = 0;
  remotePort = 0;
  /** Socket id the application holds, -1 once closed by the application (an orphan). */
  sockid = -1;
  /** Socket id of the listener that created this passive connection, -1 for active opens. */
  listenerSockid = -1;
  /** Whether the connection is in a listener's accept queue and not yet accepted. */
  inAcceptQueue = false;
  // Send sequence space, RFC 9293 §3.3.1
  /** Initial send sequence number. */
  iss = 0;
  /** Oldest unacknowledged sequence number. */
  sndUna = 0;
  /** Next sequence number to send. */
  sndNxt = 0;
  /** Highest sequence number sent plus one (sndNxt goes back on retransmission; this does not). */
  sndMax = 0;
  /** Send window the peer offered, bytes, already scaled. */
  sndWnd = 0;
  /** Largest window the peer ever offered, bytes (for the RFC 5961 §5.2 ACK check). */
  maxSndWnd = 0;
  /** Segment sequence number used for the last window update. */
  sndWl1 = 0;
  /** Segment acknowledgment number used for the last window update. */
  sndWl2 = 0;
  /** Shift applied to the peer's advertised window (RFC 7323 §2.3), 0 without scaling. */
  sndWscale = 0;
  /** Maximum segment size we may send (payload bytes, before options). */
  sndMss = 536;
  /** Whether the application asked to close the sending side (FIN queued). */
  finQueued = false;
  /** Whether our FIN has been sent at least once. */
  finSent = false;
  // Receive sequence space
  /** Initial receive sequence number. */
  irs = 0;
  /** Next sequence number expected. */
  rcvNxt = 0;
  /** Shift we apply to our advertised window, 0 without scaling. */
  rcvWscale = 0;
  /** Right edge of the window we last advertised (rcvNxt + window), never moved left. RFC 9293 §3.8.6 */
  rcvAdvRight = 0;
  /** Whether the peer's FIN has been received (in order). */
  finReceived = false;
  /** Sequence number of a FIN that arrived out of order, valid when oooFinPending. */
  oooFinSeq = 0;
  oooFinPending = false;
  /** Full-sized segments received since the last ACK we sent. RFC 5681 §4.2 */
  unackedSegments = 0;
  // Options
  /** Timestamps negotiated. RFC 7323 */
  tsOk = false;
  /** TS.Recent: the timestamp to echo. RFC 7323 §4.3 */
  tsRecent = 0;
  /** Time (ms) TS.Recent was last updated, for the 24-day PAWS rule. RFC 7323 §5.5 */
  tsRecentAt = 0;
  /** Sequence number in the last ACK we sent (Last.ACK.sent). RFC 7323 §4.3 */
  lastAckSent = 0;
  /** Window scaling agreed by both sides. RFC 7323 §2.2 */
  wsOk = false;
  /** SACK permitted by both sides. RFC 2018 */
  sackOk = false;
  /** TCP_NODELAY: application asked to disable Nagle. */
  noDelay = false;
  // Output bookkeeping
  /** An ACK must be sent at the next flush (may ride on data). */
  ackPending = false;
  /** Whether this block is on the engine's output list. */
  inOutputList = false;
  // Loss recovery
  /** Consecutive duplicate ACKs. RFC 5681 §3.2 */
  dupAcks = 0;
  /** In fast recovery until sndUna passes `recover`. RFC 6582 */
  inRecovery = false;
  /** Highest sequence number sent when recovery started. RFC 6582 §3.2 */
  recover = 0;
  /** Retransmissions of the current oldest segment (reset when it is acknowledged). */
  retries = 0;
  /** Sequence number being timed for an RTT sample without timestamps (Karn), valid when rttTiming. */
  rttSeq = 0;
  /** When rttSeq was sent, ms. */
  rttSentAt = 0;
  rttTiming = false;
  rtt = new RttEstimator();
  // Timers: deadlines in ms, -1 when not armed. The wheel holds one entry per TCB at the earliest.
  /** Retransmission (or persist) timer. RFC 6298 */
  rtoAt = -1;
  /** TIME_WAIT expiry. */
  timeWaitAt = -1;
  /** Idle timeout (tcp_timeout): no segment received for that long fails the connection. */
  idleAt = -1;
  /** When we last answered an unacceptable segment, ms (rate limit). */
  lastOowAckAt = -Infinity;
  /** Pending error to report (ECONNRESET, ECONNREFUSED, ETIMEDOUT), 0 for none. */
  error = 0;
  /** Whether the connection was reset or failed (no further I/O). */
  failed = false;
  /** Time the block was allocated, ms. */
  openedAt = 0;
  sndBuf = new SendBuffer();
  rcvBuf = new RecvBuffer();
  /** Bytes sent and not yet acknowledged (sequence space, SYN/FIN included). */
  get flightSize() {
    return this.sndMax - this.sndUna >>> 0;
  }
  /** Return to a clean CLOSED block. Buffers must already be detached. */
  reset() {
    this.state = 0 /* Closed */;
    this.inUse = false;
    this.localIp = this.localPort = this.remoteIp = this.remotePort = 0;
    this.sockid = -1;
    this.listenerSockid = -1;
    this.inAcceptQueue = false;
    this.iss = this.sndUna = this.sndNxt = this.sndMax = 0;
    this.sndWnd = this.maxSndWnd = this.sndWl1 = this.sndWl2 = this.sndWscale = 0;
    this.sndMss = 536;
    this.finQueued = this.finSent = false;
    this.irs = this.rcvNxt = this.rcvWscale = this.rcvAdvRight = 0;
    this.finReceived = false;
    this.oooFinSeq = 0;
    this.oooFinPending = false;
    this.unackedSegments = 0;
    this.tsOk = false;
    this.tsRecent = this.tsRecentAt = this.lastAckSent = 0;
    this.wsOk = false;
    this.sackOk = false;
    this.noDelay = false;
    this.ackPending = false;
    this.inOutputList = false;
    this.dupAcks = 0;
    this.inRecovery = false;
    this.recover = 0;
    this.retries = 0;
    this.rttSeq = this.rttSentAt = 0;
    this.rttTiming = false;
    this.rtt.reset();
    this.rtoAt = this.timeWaitAt = this.idleAt = -1;
    this.lastOowAckAt = -Infinity;
    this.error = 0;
    this.failed = false;
    this.openedAt = 0;
  }
};

// src/stack/tcp/engine.ts
var SYN_RETRIES = 6;
var SYNACK_RETRIES = 5;
var DATA_RETRIES = 15;
var EPHEMERAL_FIRST = 32768;
var EPHEMERAL_LAST = 60999;
var Listener = class {
  constructor(sockid, ip, port, backlog) {
    this.sockid = sockid;
    this.ip = ip;
    this.port = port;
    this.backlog = backlog;
    this.queue = new Int32Array(backlog);
  }
  sockid;
  ip;
  port;
  backlog;
  /** Connections established and waiting for accept, as TCB ids (a ring). */
  queue;
  queueHead = 0;
  queueCount = 0;
  /** Connections in SYN_RECEIVED for this listener. */
  halfOpen = 0;
};
var TcpEngine = class {
  constructor(config2, stats, ip, events) {
    this.config = config2;
    this.stats = stats;
    this.ip = ip;
    this.events = events;
    const n = config2.maxConcurrency;
    this.tcbs = new Array(n);
    this.#freeIds = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const cc = createController(config2.cc);
      this.tcbs[i] = new Tcb(i, cc);
      this.#freeIds[i] = n - 1 - i;
    }
    this.#freeCount = n;
    this.#outList = new Int32Array(n);
    this.flows = new FlowTable(n, config2.secret[0] ^ 1540483477);
    this.wheel = new TimerWheel(n, 1, 4096);
    this.sndPool = new BufferPool(config2.maxNumBuffers, config2.sndbuf);
    this.rcvPool = new BufferPool(config2.maxNumBuffers, config2.rcvbuf);
    this.isn = new IsnGenerator(config2.secret[0], config2.secret[1]);
    this.localMss = config2.mtu - 40;
    let ws = 0;
    while (ws < 14 && config2.rcvbuf >>> ws > 65535) ws++;
    this.localWscale = ws;
    this.#nextEphemeral = EPHEMERAL_FIRST + (config2.secret[1] >>> 0) % (EPHEMERAL_LAST - EPHEMERAL_FIRST + 1);
  }
  config;
  stats;
  ip;
  events;
  /** The control blocks, preallocated. */
  tcbs;
  /** Free TCB ids (a stack). */
  #freeIds;
  #freeCount;
  flows;
  /** Listeners by local port. */
  listeners = /* @__PURE__ */ new Map();
  wheel;
  sndPool;
  rcvPool;
  isn;
  /** Reused parse target for incoming segments. */
  seg = new TcpFields();
  /** Reused emit source for outgoing segments. */
  out = new TcpFields();
  /** Blocks with something to send at the next flush (a FIFO ring of ids). */
  #outList;
  #outHead = 0;
  #outCount = 0;
  /** Current time, ms (set by the context before each batch of work). */
  now = 0;
  /** MSS we announce: MTU - 40. RFC 9293 §3.7.1 */
  localMss;
  /** Window scale we offer, chosen so the receive buffer fits the window field. RFC 7323 §2.2 */
  localWscale;
  #nextEphemeral;
  #fire = (id) => this.#onTimer(id);
  /** Connections in use (any state, orphans included). */
  get activeCount() {
    return this.tcbs.length - this.#freeCount;
  }
  /** Our timestamp clock: milliseconds, modulo 2^32. RFC 7323 §5.4 */
  tsNow() {
    return Math.floor(this.now) >>> 0;
  }
  /** Payload bytes per segment: the MSS less the timestamp option when in use. */
  effectiveMss(t) {
    return t.tsOk ? t.sndMss - 12 : t.sndMss;
  }
  // ---- allocation -------------------------------------------------------
  /** Take a clean block with buffers attached, or null when a pool is exhausted. */
  allocate() {
    if (this.#freeCount === 0) return null;
    const t = this.tcbs[this.#freeIds[this.#freeCount - 1]];
    if (!t.sndBuf.attach(this.sndPool)) return null;
    if (!t.rcvBuf.attach(this.rcvPool)) {
      t.sndBuf.detach();
      return null;
    }
    this.#freeCount--;
    t.inUse = true;
    t.openedAt = this.now;
    return t;
  }
  /** Give a block back to the pool: no table entry, timer or buffer is left behind. */
  #free(t) {
    if (!t.inUse) return;
    this.#unlink(t);
    t.sndBuf.detach();
    t.rcvBuf.detach();
    t.reset();
    this.#freeIds[this.#freeCount++] = t.id;
    this.stats.tcpClosed++;
  }
  /** Remove the block from the flow table, timers and its listener's accounting. */
  #unlink(t) {
    if (t.localPort !== 0) this.flows.remove(t.localIp, t.localPort, t.remoteIp, t.remotePort);
    this.wheel.cancel(t.id);
    t.rtoAt = t.timeWaitAt = t.idleAt = -1;
    if (t.listenerSockid >= 0) {
      const l = this.#listenerOf(t);
      if (l) {
        if (t.state === 3 /* SynReceived */) l.halfOpen--;
        if (t.inAcceptQueue) removeFromQueue(l, t.id);
      }
      t.inAcceptQueue = false;
    }
  }
  #listenerOf(t) {
    const l = this.listeners.get(t.localPort);
    return l && l.sockid === t.listenerSockid ? l : void 0;
  }
  /**
   * The connection is over. With the application still holding the socket the
   * block stays (CLOSED) until mtcp_close; an orphan is freed now.
   */
  terminate(t) {
    this.#unlink(t);
    this.setState(t, 0 /* Closed */);
    if (t.sockid < 0) this.#free(t);
  }
  /** Fail the connection with `errno`, optionally sending a RST first. */
  fail(t, errno, sendRst) {
    if (sendRst) sendAbortRst(this, t);
    t.error = errno;
    t.failed = true;
    this.stats.tcpFailed++;
    if (t.sockid >= 0) this.events.wake(t.sockid, MTCP_EPOLLIN | MTCP_EPOLLOUT | MTCP_EPOLLERR | MTCP_EPOLLHUP);
    this.terminate(t);
  }
  /** The only place a state changes. */
  setState(t, s) {
    t.state = s;
  }
  // ---- timers -----------------------------------------------------------
  /** (Re)start the retransmission timer at now + RTO. RFC 6298 (5.1), (5.3) */
  armRto(t) {
    t.rtoAt = this.now + t.rtt.rtoMs;
    this.#armWheel(t, t.rtoAt);
  }
  stopRto(t) {
    t.rtoAt = -1;
  }
  /**
   * Enter TIME_WAIT: acknowledge the peer's FIN at once, then linger for
   * tcp_timewait (0 releases the block now, as mTCP's default does). RFC 9293 §3.10.7.4
   */
  enterTimeWait(t) {
    sendAck(this, t);
    this.setState(t, 10 /* TimeWait */);
    t.rtoAt = -1;
    t.idleAt = -1;
    if (this.config.timeWaitMs <= 0) this.terminate(t);
    else this.restartTimeWait(t);
  }
  restartTimeWait(t) {
    t.timeWaitAt = this.now + this.config.timeWaitMs;
    this.#armWheel(t, t.timeWaitAt);
  }
  /** Push the idle deadline forward: a segment arrived. */
  touchIdle(t) {
    if (this.config.idleTimeoutMs < 0 || t.state === 10 /* TimeWait */) return;
    t.idleAt = this.now + this.config.idleTimeoutMs;
    if (!this.wheel.isScheduled(t.id)) this.#armWheel(t, t.idleAt);
  }
  /**
   * The wheel keeps one entry per block at or before its earliest deadline;
   * a later deadline never moves the entry (it fires early and re-arms).
   */
  #armWheel(t, at) {
    const cur = this.wheel.deadlineOf(t.id);
    if (cur < 0 || at < cur) this.wheel.schedule(t.id, at);
  }
  #earliestDeadline(t) {
    let at = Infinity;
    if (t.rtoAt >= 0 && t.rtoAt < at) at = t.rtoAt;
    if (t.timeWaitAt >= 0 && t.timeWaitAt < at) at = t.timeWaitAt;
    if (t.idleAt >= 0 && t.idleAt < at) at = t.idleAt;
    return at;
  }
  /** Run expired timers; returns how many fired. */
  runTimers(now) {
    this.now = now;
    return this.wheel.advance(now, this.#fire);
  }
  /** Earliest timer deadline (ms), Infinity when none. */
  nextTimerAt() {
    return this.wheel.nextDeadline();
  }
  #onTimer(id) {
    const t = this.tcbs[id];
    if (!t.inUse) return;
    const now = this.now;
    if (t.timeWaitAt >= 0 && now >= t.timeWaitAt) {
      this.terminate(t);
      return;
    }
    if (t.idleAt >= 0 && now >= t.idleAt) {
      this.fail(t, ETIMEDOUT, t.state !== 2 /* SynSent */);
      return;
    }
    if (t.rtoAt >= 0 && now >= t.rtoAt) {
      t.rtoAt = -1;
      this.#onRetransmitTimeout(t);
      if (!t.inUse || t.state === 0 /* Closed */) return;
    }
    const at = this.#earliestDeadline(t);
    if (at !== Infinity) this.wheel.schedule(id, at);
  }
  /** RFC 6298 (5.4)-(5.7), RFC 5681 §3.1, persist timer RFC 9293 §3.8.6.1. */
  #onRetransmitTimeout(t) {
    const flight = t.flightSize;
    if (flight === 0) {
      if (t.sndWnd === 0 && unsentBytes(t) > 0 && t.state >= 4 /* Established */) {
        t.rtt.backoff();
        sendSegment(this, t, seqAdd(t.sndUna, -1), TCP_ACK, 0);
        this.armRto(t);
      }
      return;
    }
    t.retries++;
    const limit = t.state === 2 /* SynSent */ ? SYN_RETRIES : t.state === 3 /* SynReceived */ ? SYNACK_RETRIES : DATA_RETRIES;
    if (t.retries > limit) {
      if (t.state === 3 /* SynReceived */ && t.listenerSockid >= 0) this.terminate(t);
      else this.fail(t, ETIMEDOUT, t.state !== 2 /* SynSent */);
      return;
    }
    this.stats.tcpTimeouts++;
    t.cc.onRto(flight, this.effectiveMss(t), this.now);
    t.inRecovery = false;
    t.dupAcks = 0;
    t.recover = t.sndMax;
    t.rttTiming = false;
    t.rtt.backoff();
    t.sndNxt = t.sndUna;
    if (t.state === 2 /* SynSent */ || t.state === 3 /* SynReceived */) t.sndNxt = t.iss;
    if (t.finSent && t.state !== 2 /* SynSent */) t.finSent = false;
    this.armRto(t);
    this.scheduleOutput(t);
  }
  // ---- output list ------------------------------------------------------
  /** Ask for output at the next flush. */
  scheduleOutput(t) {
    if (t.inOutputList) return;
    t.inOutputList = true;
    const list = this.#outList;
    list[(this.#outHead + this.#outCount) % list.length] = t.id;
    this.#outCount++;
  }
  /** Send what every block on the output list has pending. Returns segments sent. */
  flush(now) {
    this.now = now;
    const before = this.stats.tcpOutSegs;
    const list = this.#outList;
    let n = this.#outCount;
    while (n-- > 0) {
      const id = list[this.#outHead];
      this.#outHead = (this.#outHead + 1) % list.length;
      this.#outCount--;
      const t = this.tcbs[id];
      t.inOutputList = false;
      if (!t.inUse) continue;
      if (!output(this, t)) {
        this.scheduleOutput(t);
        break;
      }
    }
    return this.stats.tcpOutSegs - before;
  }
  get hasPendingOutput() {
    return this.#outCount > 0;
  }
  // ---- input ------------------------------------------------------------
  /**
   * A parsed segment (in this.seg) from `srcIp` to `dstIp`; its payload is in
   * `buf` at seg.payloadOff. Returns a DropReason or 0.
   */
  input(buf, srcIp, dstIp) {
    const seg = this.seg;
    this.stats.tcpInSegs++;
    const id = this.flows.lookup(dstIp, seg.dstPort, srcIp, seg.srcPort);
    if (id >= 0) return segmentArrives(this, this.tcbs[id], buf, seg);
    const l = this.listeners.get(seg.dstPort);
    if (l !== void 0 && (l.ip === 0 || l.ip === dstIp)) return listenSegmentArrives(this, l, seg, srcIp, dstIp);
    if (!(seg.flags & TCP_RST)) this.sendResetFor(seg, srcIp, dstIp);
    return 25 /* TcpNoSocket */;
  }
  /**
   * A RST answering a segment that has no connection. RFC 9293 §3.10.7.1:
   * <SEQ=SEG.ACK><CTL=RST> if it carried an ACK, else
   * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
   */
  sendResetFor(seg, srcIp, dstIp) {
    const f = this.out;
    const segLen = seg.payloadLen + (seg.flags & 2 ? 1 : 0) + (seg.flags & 1 ? 1 : 0);
    const hasAck = (seg.flags & TCP_ACK) !== 0;
    f.srcPort = seg.dstPort;
    f.dstPort = seg.srcPort;
    f.seq = hasAck ? seg.ack : 0;
    f.ack = hasAck ? 0 : seqAdd(seg.seq, segLen);
    f.flags = hasAck ? TCP_RST : TCP_RST | TCP_ACK;
    f.window = 0;
    f.urgent = 0;
    f.mss = -1;
    f.wscale = -1;
    f.sackPermitted = false;
    f.hasTimestamp = false;
    f.sackCount = 0;
    if (!this.ip.beginTcp(srcIp)) return;
    const hlen = emitTcp(this.ip.txBuf, this.ip.txOff, f, dstIp, srcIp, 0);
    this.ip.endTcp(dstIp, srcIp, hlen);
    this.stats.tcpOutSegs++;
    this.stats.tcpRstSent++;
  }
  // ---- operations for the socket layer ----------------------------------
  /** Start listening on ip:port (ip 0 = any). Returns 0 or an errno. */
  listen(sockid, ip, port, backlog) {
    if (this.listeners.has(port)) return EADDRINUSE;
    this.listeners.set(port, new Listener(sockid, ip, port, backlog > 0 ? backlog : 1));
    return 0;
  }
  /** Stop listening: queued and half-open connections are reset. */
  unlisten(port) {
    const l = this.listeners.get(port);
    if (!l) return;
    this.listeners.delete(port);
    for (const t of this.tcbs) {
      if (t.inUse && t.listenerSockid === l.sockid && t.localPort === port && t.sockid < 0) {
        t.inAcceptQueue = false;
        if (t.state === 3 /* SynReceived */) l.halfOpen--;
        t.listenerSockid = -1;
        this.fail(t, ECONNRESET, true);
      }
    }
  }
  /** Take the next established connection from a listener; null when none. */
  accept(l, sockid) {
    if (l.queueCount === 0) return null;
    const id = l.queue[l.queueHead];
    l.queueHead = (l.queueHead + 1) % l.queue.length;
    l.queueCount--;
    const t = this.tcbs[id];
    t.inAcceptQueue = false;
    t.sockid = sockid;
    return t;
  }
  /** A passive connection reached ESTABLISHED: queue it for accept. */
  enqueueAccepted(t) {
    const l = this.#listenerOf(t);
    if (!l) {
      this.fail(t, ECONNRESET, true);
      return;
    }
    l.halfOpen--;
    l.queue[(l.queueHead + l.queueCount) % l.queue.length] = t.id;
    l.queueCount++;
    t.inAcceptQueue = true;
    this.stats.tcpPassiveOpens++;
    this.events.wake(l.sockid, MTCP_EPOLLIN);
  }
  /**
   * Active open. `localPort` 0 picks an ephemeral port. Returns the block, or
   * a negative errno.
   */
  connect(sockid, localIp, localPort, remoteIp, remotePort) {
    if (localPort === 0) {
      localPort = this.#pickEphemeral(localIp, remoteIp, remotePort);
      if (localPort < 0) return -EADDRNOTAVAIL;
    } else if (this.flows.lookup(localIp, localPort, remoteIp, remotePort) >= 0) {
      return -EADDRINUSE;
    }
    const t = this.allocate();
    if (!t) return -ENOMEM;
    t.sockid = sockid;
    t.localIp = localIp;
    t.localPort = localPort;
    t.remoteIp = remoteIp;
    t.remotePort = remotePort;
    t.iss = this.isn.next(localIp, localPort, remoteIp, remotePort, this.now);
    t.sndUna = t.sndNxt = t.sndMax = t.iss;
    t.rcvWscale = this.localWscale;
    t.sndMss = 536;
    t.cc.init(this.effectiveMss(t), this.now);
    this.flows.insert(localIp, localPort, remoteIp, remotePort, t.id);
    this.setState(t, 2 /* SynSent */);
    this.stats.tcpActiveOpens++;
    this.touchIdle(t);
    this.scheduleOutput(t);
    return t;
  }
  #pickEphemeral(localIp, remoteIp, remotePort) {
    const span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
    for (let i = 0; i < span; i++) {
      const port = this.#nextEphemeral;
      this.#nextEphemeral = port === EPHEMERAL_LAST ? EPHEMERAL_FIRST : port + 1;
      if (this.listeners.has(port)) continue;
      if (this.flows.lookup(localIp, port, remoteIp, remotePort) < 0) return port;
    }
    return -1;
  }
  /** Queue application data. Returns bytes accepted or a negative errno. */
  send(t, src, off, len) {
    if (t.failed) return -(t.error || EPIPE);
    if (t.finQueued) return -EPIPE;
    if (t.state === 2 /* SynSent */ || t.state === 3 /* SynReceived */) return -EAGAIN;
    if (t.state !== 4 /* Established */ && t.state !== 7 /* CloseWait */) return -ENOTCONN;
    if (len === 0) return 0;
    const n = t.sndBuf.write(src, off, len);
    if (n === 0) return -EAGAIN;
    this.scheduleOutput(t);
    return n;
  }
  /** Read (or peek) received data. Returns bytes, 0 at end of stream, or a negative errno. */
  receive(t, dst, off, len, peek) {
    if (t.rcvBuf.readable > 0 && len > 0) {
      if (peek) return t.rcvBuf.peek(dst, off, len);
      const wasZero = t.rcvBuf.free < this.effectiveMss(t);
      const n = t.rcvBuf.read(dst, off, len);
      this.#maybeWindowUpdate(t, wasZero);
      return n;
    }
    if (t.failed) return -(t.error || ECONNRESET);
    if (t.finReceived) return 0;
    if (len === 0) return 0;
    if (t.state === 2 /* SynSent */ || t.state === 3 /* SynReceived */) return -EAGAIN;
    if (t.state === 0 /* Closed */) return -ENOTCONN;
    return -EAGAIN;
  }
  /** After the application read: announce a window that opened by at least min(buffer/2, MSS). RFC 9293 §3.8.6.2.2 */
  #maybeWindowUpdate(t, wasSmall) {
    if (t.state < 4 /* Established */ || t.finReceived) return;
    const right = seqAdd(t.rcvNxt, t.rcvBuf.free);
    const grew = right - t.rcvAdvRight | 0;
    const threshold = Math.min(t.rcvBuf.capacity >>> 1, this.effectiveMss(t));
    if (grew >= threshold || wasSmall && grew > 0) {
      t.ackPending = true;
      this.scheduleOutput(t);
    }
  }
  /** Close the sending side (queue a FIN). Returns 0 or an errno. RFC 9293 §3.10.4 */
  shutdownWrite(t) {
    switch (t.state) {
      case 2 /* SynSent */:
        this.terminate(t);
        return 0;
      case 3 /* SynReceived */:
      case 4 /* Established */:
        t.finQueued = true;
        this.setState(t, 5 /* FinWait1 */);
        break;
      case 7 /* CloseWait */:
        t.finQueued = true;
        this.setState(t, 9 /* LastAck */);
        break;
      case 0 /* Closed */:
        return ENOTCONN;
      default:
        return 0;
    }
    this.scheduleOutput(t);
    return 0;
  }
  /**
   * The application closes its socket. Unread data makes it an abort (RST),
   * as in Linux; otherwise the close handshake runs on as an orphan.
   */
  close(t) {
    t.sockid = -1;
    if (t.state === 0 /* Closed */ || t.failed) {
      this.#free(t);
      return;
    }
    if (t.rcvBuf.readable > 0) {
      this.abort(t);
      return;
    }
    this.shutdownWrite(t);
    if (t.inUse) this.touchIdle(t);
  }
  /** Abort: send RST (when synchronized) and free everything. RFC 9293 §3.10.5 */
  abort(t) {
    if (t.state !== 2 /* SynSent */ && t.state !== 0 /* Closed */ && t.state !== 10 /* TimeWait */) sendAbortRst(this, t);
    t.sockid = -1;
    this.#unlink(t);
    this.setState(t, 0 /* Closed */);
    this.#free(t);
  }
  /** Readiness of a connection, as epoll bits. */
  readiness(t) {
    let m = 0;
    if (t.failed) return MTCP_EPOLLIN | MTCP_EPOLLOUT | MTCP_EPOLLERR | MTCP_EPOLLHUP;
    if (t.rcvBuf.readable > 0) m |= MTCP_EPOLLIN;
    if (t.finReceived) m |= MTCP_EPOLLIN | MTCP_EPOLLRDHUP;
    const writable = t.state === 4 /* Established */ || t.state === 7 /* CloseWait */;
    if (writable && !t.finQueued && t.sndBuf.free > 0) m |= MTCP_EPOLLOUT;
    if (t.state === 0 /* Closed */ || t.finReceived && t.finQueued) m |= MTCP_EPOLLHUP;
    return m;
  }
};
function removeFromQueue(l, id) {
  const q = l.queue;
  let w = 0;
  for (let i = 0; i < l.queueCount; i++) {
    const v = q[(l.queueHead + i) % q.length];
    if (v !== id) q[(l.queueHead + w++) % q.length] = v;
  }
  l.queueCount = w;
}

// src/stack/wire/ethernet.ts
var ETH_HLEN = 14;
var ETHERTYPE_IPV4 = 2048;
var ETHERTYPE_ARP = 2054;
var MAC_BROADCAST = 281474976710655;
var DST2 = 0;
var SRC2 = 6;
var TYPE = 12;
function readMac(buf, off) {
  return (buf[off] << 8 | buf[off + 1]) * 4294967296 + ((buf[off + 2] << 24 | buf[off + 3] << 16 | buf[off + 4] << 8 | buf[off + 5]) >>> 0);
}
function writeMac(buf, off, mac) {
  const hi = Math.floor(mac / 4294967296);
  const lo = mac >>> 0;
  buf[off] = hi >>> 8;
  buf[off + 1] = hi & 255;
  buf[off + 2] = lo >>> 24;
  buf[off + 3] = lo >>> 16 & 255;
  buf[off + 4] = lo >>> 8 & 255;
  buf[off + 5] = lo & 255;
}
function ethType(buf, off) {
  return buf[off + TYPE] << 8 | buf[off + TYPE + 1];
}
function emitEthernet(buf, off, dst, src, type) {
  writeMac(buf, off + DST2, dst);
  writeMac(buf, off + SRC2, src);
  buf[off + TYPE] = type >>> 8;
  buf[off + TYPE + 1] = type & 255;
  return ETH_HLEN;
}

// src/stack/wire/arp.ts
var ARP_LEN = 28;
var ARP_REQUEST = 1;
var ARP_REPLY = 2;
var HTYPE = 0;
var PTYPE = 2;
var HLEN = 4;
var PLEN = 5;
var OP = 6;
var SHA = 8;
var SPA = 14;
var THA = 18;
var TPA = 24;
var ArpFields = class {
  op = 0;
  /** Sender hardware and protocol address. */
  sha = 0;
  spa = 0;
  /** Target hardware and protocol address. */
  tha = 0;
  tpa = 0;
};
function read324(b, o) {
  return (b[o] << 24 | b[o + 1] << 16 | b[o + 2] << 8 | b[o + 3]) >>> 0;
}
function write324(b, o, v) {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16 & 255;
  b[o + 2] = v >>> 8 & 255;
  b[o + 3] = v & 255;
}
function parseArp(buf, off, len, out2) {
  if (len < ARP_LEN) return 4 /* ArpTooShort */;
  const htype = buf[off + HTYPE] << 8 | buf[off + HTYPE + 1];
  const ptype = buf[off + PTYPE] << 8 | buf[off + PTYPE + 1];
  const op = buf[off + OP] << 8 | buf[off + OP + 1];
  if (htype !== 1 || ptype !== 2048 || buf[off + HLEN] !== 6 || buf[off + PLEN] !== 4) return 5 /* ArpUnsupported */;
  if (op !== ARP_REQUEST && op !== ARP_REPLY) return 5 /* ArpUnsupported */;
  out2.op = op;
  out2.sha = readMac(buf, off + SHA);
  out2.spa = read324(buf, off + SPA);
  out2.tha = readMac(buf, off + THA);
  out2.tpa = read324(buf, off + TPA);
  return 0 /* None */;
}
function emitArp(buf, off, op, sha, spa, tha, tpa) {
  buf[off + HTYPE] = 0;
  buf[off + HTYPE + 1] = 1;
  buf[off + PTYPE] = 8;
  buf[off + PTYPE + 1] = 0;
  buf[off + HLEN] = 6;
  buf[off + PLEN] = 4;
  buf[off + OP] = 0;
  buf[off + OP + 1] = op;
  writeMac(buf, off + SHA, sha);
  write324(buf, off + SPA, spa);
  writeMac(buf, off + THA, tha);
  write324(buf, off + TPA, tpa);
  return ARP_LEN;
}

// src/stack/wire/icmp.ts
var ICMP_ECHO_REPLY = 0;
var ICMP_ECHO_REQUEST = 8;
var ICMP_HLEN = 8;
var IcmpFields = class {
  type = 0;
  code = 0;
  id = 0;
  seq = 0;
  payloadOff = 0;
  payloadLen = 0;
};
function parseIcmp(buf, off, len, out2) {
  if (len < ICMP_HLEN) return 17 /* IcmpTooShort */;
  if (checksumFold(checksumAdd(buf, off, len, 0)) !== 0) return 18 /* IcmpBadChecksum */;
  out2.type = buf[off];
  out2.code = buf[off + 1];
  out2.id = buf[off + 4] << 8 | buf[off + 5];
  out2.seq = buf[off + 6] << 8 | buf[off + 7];
  out2.payloadOff = off + ICMP_HLEN;
  out2.payloadLen = len - ICMP_HLEN;
  return 0 /* None */;
}
function emitIcmpEcho(buf, off, type, id, seq, src, srcOff, payloadLen) {
  const dstOff = off + ICMP_HLEN;
  if (src !== buf || srcOff !== dstOff) buf.set(src.subarray(srcOff, srcOff + payloadLen), dstOff);
  buf[off] = type;
  buf[off + 1] = 0;
  buf[off + 2] = 0;
  buf[off + 3] = 0;
  buf[off + 4] = id >>> 8;
  buf[off + 5] = id & 255;
  buf[off + 6] = seq >>> 8;
  buf[off + 7] = seq & 255;
  const c = checksumFold(checksumAdd(buf, off, ICMP_HLEN + payloadLen, 0));
  buf[off + 2] = c >>> 8;
  buf[off + 3] = c & 255;
  return ICMP_HLEN + payloadLen;
}

// src/stack/context.ts
var BURST = 64;
var IP_TTL = 64;
var StackContext = class {
  constructor(driver, queue, config2, events) {
    this.driver = driver;
    this.queue = queue;
    this.ip = config2.ip;
    this.mac = driver.mac;
    this.#routes = config2.routes;
    this.#verifyTcp = config2.verifyTcpChecksum;
    this.arp = new ArpCache(config2.staticArp);
    this.#pending = new PendingFrames(256, driver.frameCapacity);
    this.tcp = new TcpEngine(config2.tcp, this.stats, this, events);
  }
  driver;
  queue;
  stats = new Stats();
  tcp;
  arp;
  ip;
  mac;
  /** Current time, ms. */
  now = 0;
  #rx = new FrameBatch(BURST);
  #tx = new FrameBatch(BURST);
  /** TX slots of #tx already holding a finished frame. */
  #txUsed = 0;
  /** Index in #tx of the frame being built. */
  #txCur = -1;
  txBuf = new Uint8Array(0);
  txOff = 0;
  #ipId = 0;
  #pending;
  #ipf = new Ipv4Fields();
  #arpf = new ArpFields();
  #icmpf = new IcmpFields();
  #routes;
  #verifyTcp;
  #sendPending = (off, len) => this.#sendPendingFrame(off, len);
  #pendingMac = 0;
  /**
   * One turn of the loop: send what the application queued (and the ACKs that
   * may ride on it), receive and process a burst, run timers, transmit.
   * Returns the number of frames received plus sent.
   */
  poll(now) {
    this.now = now;
    this.tcp.now = now;
    this.tcp.flush(now);
    const rx = this.#rx;
    const n = this.driver.rxBurst(this.queue, rx, BURST);
    for (let i = 0; i < n; i++) {
      const reason = this.#input(rx.buf[i], rx.off[i], rx.len[i]);
      if (reason !== 0 /* None */) this.stats.drops[reason]++;
    }
    if (n > 0) this.driver.rxRelease(this.queue, rx);
    this.tcp.runTimers(now);
    if (this.#pending.count > 0) this.stats.drops[16 /* IpArpPending */] += this.#pending.expire(now);
    return n + this.flushTx();
  }
  /** Hand built frames to the driver. Returns frames sent. */
  flushTx() {
    const used = this.#txUsed;
    if (this.#tx.count > 0) {
      this.driver.txBurst(this.queue, this.#tx, used);
      this.#tx.count = 0;
    }
    this.#txUsed = 0;
    this.#txCur = -1;
    return used;
  }
  /** Send pending TCP output now (before sleeping). */
  flushOutput(now) {
    this.now = now;
    this.tcp.flush(now);
    return this.flushTx();
  }
  /** Earliest time something is due, ms (Infinity when nothing is). */
  nextDeadline() {
    if (this.tcp.hasPendingOutput) return this.now;
    const t = this.tcp.nextTimerAt();
    return this.#pending.count > 0 ? Math.min(t, this.now + 100) : t;
  }
  // ---- receive ------------------------------------------------------------
  #input(buf, off, len) {
    this.stats.rxFrames++;
    this.stats.rxBytes += len;
    if (len < ETH_HLEN) return 1 /* EthTooShort */;
    const dst = readMac(buf, off);
    if (dst !== this.mac && dst !== MAC_BROADCAST) return 2 /* EthNotForUs */;
    const type = ethType(buf, off);
    if (type === ETHERTYPE_IPV4) return this.#ipInput(buf, off + ETH_HLEN, len - ETH_HLEN, readMac(buf, off + 6));
    if (type === ETHERTYPE_ARP) return this.#arpInput(buf, off + ETH_HLEN, len - ETH_HLEN);
    return 3 /* EthUnknownType */;
  }
  #ipInput(buf, off, len, srcMac) {
    const ipf = this.#ipf;
    const r = parseIpv42(buf, off, len, ipf);
    if (r !== 0 /* None */) return r;
    if (ipf.dst !== this.ip) return 13 /* IpNotForUs */;
    if (ipf.proto === IPPROTO_TCP) {
      const seg = this.tcp.seg;
      const tr = parseTcp(buf, ipf.payloadOff, ipf.payloadLen, ipf.src, ipf.dst, seg, this.#verifyTcp);
      if (tr !== 0 /* None */) return tr;
      return this.tcp.input(buf, ipf.src, ipf.dst);
    }
    if (ipf.proto === IPPROTO_ICMP) return this.#icmpInput(buf, srcMac);
    return 14 /* IpUnknownProtocol */;
  }
  /** Answer echo requests. RFC 792 */
  #icmpInput(buf, srcMac) {
    const ipf = this.#ipf;
    const icmp = this.#icmpf;
    const r = parseIcmp(buf, ipf.payloadOff, ipf.payloadLen, icmp);
    if (r !== 0 /* None */) return r;
    if (icmp.type !== ICMP_ECHO_REQUEST) return 19 /* IcmpUnsupported */;
    const need = ETH_HLEN + IPV4_HLEN + 8 + icmp.payloadLen;
    if (!this.#reserve() || this.#tx.len[this.#txCur] < need) return 36 /* TxNoSlot */;
    const out2 = this.#tx.buf[this.#txCur];
    const o = this.#tx.off[this.#txCur];
    const icmpLen = emitIcmpEcho(out2, o + ETH_HLEN + IPV4_HLEN, ICMP_ECHO_REPLY, icmp.id, icmp.seq, buf, icmp.payloadOff, icmp.payloadLen);
    emitIpv4(out2, o + ETH_HLEN, this.ip, ipf.src, IPPROTO_ICMP, icmpLen, this.#ipId++ & 65535, IP_TTL);
    emitEthernet(out2, o, srcMac, this.mac, ETHERTYPE_IPV4);
    this.#commit(ETH_HLEN + IPV4_HLEN + icmpLen);
    this.stats.icmpEchoReplies++;
    return 0 /* None */;
  }
  #arpInput(buf, off, len) {
    const a = this.#arpf;
    const r = parseArp(buf, off, len, a);
    if (r !== 0 /* None */) return r;
    if (a.tpa !== this.ip) return 6 /* ArpNotForUs */;
    this.arp.learn(a.spa, a.sha, this.now);
    this.#pendingMac = a.sha;
    this.#pending.release(a.spa, this.#sendPending);
    if (a.op === ARP_REQUEST) {
      if (!this.#reserve()) return 36 /* TxNoSlot */;
      const out2 = this.#tx.buf[this.#txCur];
      const o = this.#tx.off[this.#txCur];
      emitEthernet(out2, o, a.sha, this.mac, ETHERTYPE_ARP);
      emitArp(out2, o + ETH_HLEN, ARP_REPLY, this.mac, this.ip, a.sha, a.spa);
      this.#commit(ETH_HLEN + ARP_LEN);
      this.stats.arpRepliesSent++;
    }
    return 0 /* None */;
  }
  // ---- transmit -----------------------------------------------------------
  /** Make #txCur a free TX slot. */
  #reserve() {
    if (this.#txUsed < this.#tx.count) {
      this.#txCur = this.#txUsed;
      return true;
    }
    if (this.#tx.count > 0) this.flushTx();
    if (this.driver.txAlloc(this.queue, this.#tx, BURST) === 0) {
      this.stats.drops[36 /* TxNoSlot */]++;
      return false;
    }
    this.#txCur = 0;
    return true;
  }
  /** The frame in #txCur is `len` bytes and ready. */
  #commit(len) {
    this.#tx.len[this.#txCur] = len;
    this.#txUsed++;
    this.#txCur = -1;
    this.stats.txFrames++;
    this.stats.txBytes += len;
  }
  beginTcp(_dstIp) {
    if (!this.#reserve()) return false;
    this.txBuf = this.#tx.buf[this.#txCur];
    this.txOff = this.#tx.off[this.#txCur] + ETH_HLEN + IPV4_HLEN;
    return true;
  }
  endTcp(srcIp, dstIp, tcpLen) {
    const buf = this.txBuf;
    const o = this.#tx.off[this.#txCur];
    emitIpv4(buf, o + ETH_HLEN, srcIp, dstIp, IPPROTO_TCP, tcpLen, this.#ipId++ & 65535, IP_TTL);
    const frameLen = ETH_HLEN + IPV4_HLEN + tcpLen;
    const hop = this.#routes.nextHop(dstIp);
    if (hop < 0) {
      this.stats.drops[15 /* IpNoRoute */]++;
      return;
    }
    const mac = this.arp.lookup(hop);
    if (mac < 0) {
      emitEthernet(buf, o, MAC_BROADCAST, this.mac, ETHERTYPE_IPV4);
      if (this.#pending.add(hop, buf, o, frameLen, this.now)) this.stats.drops[16 /* IpArpPending */]++;
      this.#requestArp(hop, MAC_BROADCAST);
      return;
    }
    if (this.arp.isStale(hop, this.now) && this.arp.mayRequest(hop, this.now)) {
      emitEthernet(buf, o, mac, this.mac, ETHERTYPE_IPV4);
      this.#commit(frameLen);
      this.#requestArp(hop, mac);
      return;
    }
    emitEthernet(buf, o, mac, this.mac, ETHERTYPE_IPV4);
    this.#commit(frameLen);
  }
  #requestArp(targetIp, dstMac) {
    if (dstMac === MAC_BROADCAST && !this.arp.mayRequest(targetIp, this.now)) return;
    if (!this.#reserve()) return;
    const out2 = this.#tx.buf[this.#txCur];
    const o = this.#tx.off[this.#txCur];
    emitEthernet(out2, o, dstMac, this.mac, ETHERTYPE_ARP);
    emitArp(out2, o + ETH_HLEN, ARP_REQUEST, this.mac, this.ip, 0, targetIp);
    this.#commit(ETH_HLEN + ARP_LEN);
    this.stats.arpRequestsSent++;
  }
  #sendPendingFrame(off, len) {
    if (!this.#reserve()) return;
    const out2 = this.#tx.buf[this.#txCur];
    const o = this.#tx.off[this.#txCur];
    out2.set(this.#pending.bytes.subarray(off, off + len), o);
    writeMac(out2, o, this.#pendingMac);
    this.#commit(len);
  }
};

// src/mtcp/socket-table.ts
var Socket = class {
  constructor(id) {
    this.id = id;
  }
  id;
  kind = 0 /* Free */;
  /** The connection, once connect() or accept() made one. */
  tcb = null;
  /** For a listening socket. */
  listener = null;
  /** For an epoll socket. */
  epoll = null;
  /** Socket id of the epoll this socket is registered with, -1 for none (one per socket, as in mTCP). */
  epollId = -1;
  /** O_NONBLOCK was set (recorded; every call is non-blocking, see the README). */
  nonblock = false;
  /** SO_REUSEADDR. */
  reuseAddr = false;
  /** TCP_NODELAY. */
  noDelay = false;
  /** Bound address and port (host order); port 0 = not bound. */
  boundIp = 0;
  boundPort = 0;
  /** SO_RCVBUF / SO_SNDBUF limits, bytes (0: the configured size). */
  rcvbuf = 0;
  sndbuf = 0;
  /** shutdown(SHUT_RD) was called: reads return 0. */
  shutRd = false;
  reset() {
    this.kind = 0 /* Free */;
    this.tcb = null;
    this.listener = null;
    this.epoll = null;
    this.epollId = -1;
    this.nonblock = false;
    this.reuseAddr = false;
    this.noDelay = false;
    this.boundIp = 0;
    this.boundPort = 0;
    this.rcvbuf = 0;
    this.sndbuf = 0;
    this.shutRd = false;
  }
};
var SocketTable = class {
  constructor(capacity) {
    this.capacity = capacity;
    this.sockets = new Array(capacity);
    this.#free = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) {
      this.sockets[i] = new Socket(i);
      this.#free[i] = capacity - 1 - i;
    }
    this.#freeCount = capacity;
  }
  capacity;
  sockets;
  #free;
  #freeCount;
  /** A free socket of `kind`, or null when all ids are taken. */
  allocate(kind) {
    if (this.#freeCount === 0) return null;
    const s = this.sockets[this.#free[--this.#freeCount]];
    s.kind = kind;
    return s;
  }
  release(s) {
    if (s.kind === 0 /* Free */) return;
    s.reset();
    this.#free[this.#freeCount++] = s.id;
  }
  /** The socket with this id if it is in use, else null. */
  get(id) {
    if (!Number.isInteger(id) || id < 0 || id >= this.capacity) return null;
    const s = this.sockets[id];
    return s.kind === 0 /* Free */ ? null : s;
  }
  get inUse() {
    return this.capacity - this.#freeCount;
  }
};

// src/mtcp/context.ts
var IDLE_SPINS = 32;
var MAX_SLEEP_MS = 1e3;
var MtcpContext = class {
  constructor(core, driver, config2, clock) {
    this.core = core;
    this.driver = driver;
    this.#clock = clock;
    this.sockets = new SocketTable(config2.tcp.maxConcurrency);
    this.stack = new StackContext(driver, core % driver.queues, config2, this);
    this.stack.now = clock.now();
    this.closed = this.#loop();
  }
  core;
  driver;
  /** errno of the last failed call on this context. */
  errno = 0;
  stack;
  sockets;
  /** Resolves when the loop has stopped and the driver is closed. */
  closed;
  #clock;
  #waiters = [];
  #running = true;
  #sleeping = false;
  get running() {
    return this.#running;
  }
  now() {
    return this.#clock.now();
  }
  // ---- SocketEvents and ReadinessSource --------------------------------
  wake(sockid, bits) {
    const s = this.sockets.sockets[sockid];
    if (s.epollId < 0) return;
    const ep = this.sockets.sockets[s.epollId].epoll;
    if (ep) ep.wake(sockid, bits);
  }
  readiness(sockid) {
    const s = this.sockets.sockets[sockid];
    switch (s.kind) {
      case 1 /* Stream */:
        return s.tcb ? this.stack.tcp.readiness(s.tcb) : MTCP_EPOLLOUT | MTCP_EPOLLHUP;
      case 2 /* Listener */:
        return s.listener && s.listener.queueCount > 0 ? MTCP_EPOLLIN : 0;
      default:
        return 0;
    }
  }
  // ---- the loop ---------------------------------------------------------
  /** Wait for events on `epoll`; resolves with the count (0 on timeout). */
  wait(epoll, events, maxevents, timeoutMs) {
    if (!this.#running) return Promise.resolve(0);
    const deadline = timeoutMs < 0 ? Infinity : this.#clock.now() + timeoutMs;
    return new Promise((resolve) => {
      this.#waiters.push({ epoll, events, maxevents, deadline, resolve });
      this.kick();
    });
  }
  /** The application queued work: wake the loop if it sleeps. */
  kick() {
    if (this.#sleeping) this.driver.wakeRx(this.stack.queue);
  }
  /** Stop the loop; pending waits resolve with 0. */
  stop() {
    if (!this.#running) return;
    this.#running = false;
    this.kick();
  }
  async #loop() {
    let idle = 0;
    await immediate();
    while (this.#running) {
      const now = this.#clock.now();
      let work = this.stack.poll(now);
      if (this.#waiters.length > 0) work += this.#serveWaiters(now);
      if (work > 0) {
        idle = 0;
        await immediate();
        continue;
      }
      if (this.stack.tcp.hasPendingOutput) {
        this.stack.flushOutput(now);
        await immediate();
        continue;
      }
      if (++idle < IDLE_SPINS) {
        await immediate();
        continue;
      }
      let until = this.stack.nextDeadline();
      for (const w of this.#waiters) if (w.deadline < until) until = w.deadline;
      let sleep = until - now;
      if (sleep > MAX_SLEEP_MS) sleep = MAX_SLEEP_MS;
      if (sleep <= 0) {
        await immediate();
        continue;
      }
      this.#sleeping = true;
      await this.driver.waitRx(this.stack.queue, sleep);
      this.#sleeping = false;
    }
    for (const w of this.#waiters.splice(0)) w.resolve(0);
    this.driver.close();
  }
  /** Resolve waits that have events or whose time is up. Returns how many resolved. */
  #serveWaiters(now) {
    let served = 0;
    const ws = this.#waiters;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i];
      const n = w.epoll.hasReady ? w.epoll.collect(w.events, w.maxevents) : 0;
      if (n > 0 || now >= w.deadline) {
        ws.splice(i--, 1);
        w.resolve(n);
        if (n > 0) served++;
      }
    }
    return served;
  }
};

// src/mtcp/runtime.ts
import { webcrypto } from "node:crypto";

// src/io/shm.ts
var HEAD = 0;
var TAIL = 1;
var SLEEPING = 2;
var DOORBELL = 3;
var CONTROL_INTS = 16;
var ShmWire = class _ShmWire {
  constructor(shared) {
    this.shared = shared;
  }
  shared;
  static create(opts = {}) {
    const queues = opts.queues ?? 1;
    const slots = opts.slots ?? 1024;
    const slotSize = opts.slotSize ?? 2048;
    if ((slots & slots - 1) !== 0 || slots < 2) throw new RangeError(`shm wire: slots = ${slots} must be a power of two`);
    const shared = { queues, slots, slotSize, data: [], lengths: [], control: [] };
    for (let i = 0; i < 2 * queues; i++) {
      shared.data.push(new SharedArrayBuffer(slots * slotSize));
      shared.lengths.push(new SharedArrayBuffer(slots * 4));
      shared.control.push(new SharedArrayBuffer(CONTROL_INTS * 4));
    }
    return new _ShmWire(shared);
  }
  /** Structured-cloneable description for workerData. */
  share() {
    return this.shared;
  }
};
var Ring = class {
  bytes;
  lengths;
  control;
  mask;
  constructor(shared, index) {
    this.bytes = new Uint8Array(shared.data[index]);
    this.lengths = new Int32Array(shared.lengths[index]);
    this.control = new Int32Array(shared.control[index]);
    this.mask = shared.slots - 1;
  }
};
function attachShm(shared, port, mac) {
  return new ShmDriver(shared, port, mac);
}
var ShmDriver = class {
  constructor(shared, port, mac) {
    this.mac = mac;
    this.queues = shared.queues;
    this.#slots = shared.slots;
    this.#slotSize = shared.slotSize;
    this.frameCapacity = shared.slotSize;
    for (let q = 0; q < shared.queues; q++) {
      const out2 = port === 0 ? q : shared.queues + q;
      const inn = port === 0 ? shared.queues + q : q;
      this.#tx.push(new Ring(shared, out2));
      this.#rx.push(new Ring(shared, inn));
    }
    this.#rxHeld = new Int32Array(shared.queues);
    this.#txReserved = new Int32Array(shared.queues);
  }
  mac;
  name = "shm";
  queues;
  frameCapacity;
  stats = { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, txDropped: 0 };
  #rx = [];
  #tx = [];
  #slots;
  #slotSize;
  /** Frames handed out by rxBurst and not yet released, per queue. */
  #rxHeld;
  /** Slots reserved by txAlloc, per queue. */
  #txReserved;
  #closed = false;
  rxBurst(queue, out2, max) {
    const r = this.#rx[queue];
    const c = r.control;
    const head = Atomics.load(c, HEAD);
    const tail = c[TAIL];
    let n = head - tail | 0;
    if (n > max) n = max;
    if (n > out2.capacity) n = out2.capacity;
    const size2 = this.#slotSize;
    for (let i = 0; i < n; i++) {
      const slot = tail + i & r.mask;
      const len = r.lengths[slot];
      out2.buf[i] = r.bytes;
      out2.off[i] = slot * size2;
      out2.len[i] = len;
      out2.id[i] = slot;
      this.stats.rxBytes += len;
    }
    this.stats.rxFrames += n;
    this.#rxHeld[queue] = n;
    out2.count = n;
    return n;
  }
  rxRelease(queue, batch) {
    const n = this.#rxHeld[queue];
    if (n === 0) return;
    const c = this.#rx[queue].control;
    Atomics.store(c, TAIL, c[TAIL] + n | 0);
    this.#rxHeld[queue] = 0;
    batch.count = 0;
  }
  txAlloc(queue, out2, max) {
    const r = this.#tx[queue];
    const c = r.control;
    const head = c[HEAD];
    const tail = Atomics.load(c, TAIL);
    let n = this.#slots - (head - tail | 0);
    if (n > max) n = max;
    if (n > out2.capacity) n = out2.capacity;
    const size2 = this.#slotSize;
    for (let i = 0; i < n; i++) {
      const slot = head + i & r.mask;
      out2.buf[i] = r.bytes;
      out2.off[i] = slot * size2;
      out2.len[i] = size2;
      out2.id[i] = slot;
    }
    this.#txReserved[queue] = n;
    out2.count = n;
    return n;
  }
  txBurst(queue, batch, count) {
    const reserved = this.#txReserved[queue];
    if (count > reserved) count = reserved;
    this.#txReserved[queue] = 0;
    batch.count = 0;
    if (count <= 0 || this.#closed) return;
    const r = this.#tx[queue];
    const c = r.control;
    const head = c[HEAD];
    for (let i = 0; i < count; i++) {
      const len = batch.len[i];
      r.lengths[head + i & r.mask] = len;
      this.stats.txBytes += len;
    }
    this.stats.txFrames += count;
    Atomics.store(c, HEAD, head + count | 0);
    if (Atomics.load(c, SLEEPING) !== 0) {
      Atomics.add(c, DOORBELL, 1);
      Atomics.notify(c, DOORBELL);
    }
  }
  async waitRx(queue, timeoutMs) {
    const c = this.#rx[queue].control;
    if (this.#closed || Atomics.load(c, HEAD) !== c[TAIL]) return;
    const bell = Atomics.load(c, DOORBELL);
    Atomics.store(c, SLEEPING, 1);
    if (Atomics.load(c, HEAD) === c[TAIL]) {
      const w = Atomics.waitAsync(c, DOORBELL, bell, timeoutMs > 0 ? timeoutMs : 0);
      if (w.async) await w.value;
    }
    Atomics.store(c, SLEEPING, 0);
  }
  wakeRx(queue) {
    const c = this.#rx[queue].control;
    if (Atomics.load(c, SLEEPING) === 0) return;
    Atomics.add(c, DOORBELL, 1);
    Atomics.notify(c, DOORBELL);
  }
  close() {
    if (this.#closed) return;
    this.#closed = true;
    for (let q = 0; q < this.queues; q++) this.wakeRx(q);
  }
};

// src/mtcp/runtime.ts
var realClock = { now: () => performance.now() };
var MtcpRuntime = class {
  config;
  #sim;
  #shm;
  #secret;
  contexts = /* @__PURE__ */ new Map();
  constructor(config2, options = {}) {
    if (config2.ports.length === 0) throw new Error(`${config2.file}: no port configured; set \`port\` and \`<port>.addr\``);
    this.config = config2;
    this.#secret = options.secret;
    if (config2.io === "sim") {
      if (!options.sim) throw new Error("io = sim needs a SimWire: mtcp_init(conf, { sim: wire })");
      this.#sim = options.sim;
    } else {
      this.#shm = options.shm ?? { wire: ShmWire.create({ slots: config2.shmSlots }).share(), port: 0 };
    }
  }
  /** For the stack at the other end of this runtime's shm wire. */
  shmPeer() {
    if (!this.#shm) throw new Error("shmPeer(): this runtime does not use io = shm");
    return { wire: this.#shm.wire, port: this.#shm.port === 0 ? 1 : 0 };
  }
  /** What a worker thread needs to make a context of this runtime. */
  share() {
    return this.#shm ? { config: this.config, shm: this.#shm } : { config: this.config };
  }
  createContext(core) {
    const cfg = this.config;
    if (!Number.isInteger(core) || core < 0 || core >= cfg.numCores) {
      throw new RangeError(`core ${core} is out of range: num_cores = ${cfg.numCores}`);
    }
    if (this.contexts.has(core)) throw new Error(`core ${core} already has a context`);
    const port = cfg.ports[0];
    let driver;
    let clock;
    if (this.#sim) {
      driver = this.#sim.attach(port.mac);
      clock = this.#sim.clock;
    } else {
      const shm = this.#shm;
      driver = attachShm(shm.wire, shm.port, port.mac);
      clock = realClock;
    }
    const secret = this.#secret ?? randomSecret();
    const config2 = {
      ip: port.addr,
      routes: new RouteTable(cfg.routes, cfg.ports),
      staticArp: new ArpTable(cfg.arp),
      verifyTcpChecksum: true,
      tcp: {
        maxConcurrency: cfg.maxConcurrency,
        maxNumBuffers: cfg.maxNumBuffers,
        rcvbuf: cfg.rcvbuf,
        sndbuf: cfg.sndbuf,
        idleTimeoutMs: cfg.tcpTimeoutSec < 0 ? -1 : cfg.tcpTimeoutSec * 1e3,
        timeWaitMs: cfg.tcpTimewaitSec * 1e3,
        mtu: cfg.mtu,
        cc: cfg.cc,
        secret
      }
    };
    const mctx = new MtcpContext(core, driver, config2, clock);
    this.contexts.set(core, mctx);
    void mctx.closed.then(() => {
      if (this.contexts.get(core) === mctx) this.contexts.delete(core);
    });
    return mctx;
  }
  /** Stop every context. */
  destroy() {
    for (const mctx of this.contexts.values()) mctx.stop();
  }
};
function randomSecret() {
  const a = new Uint32Array(2);
  webcrypto.getRandomValues(a);
  return [a[0], a[1]];
}

// src/mtcp/constants.ts
var AF_INET = 2;
var SOCK_STREAM = 1;
var SOCK_NONBLOCK = 2048;
var IPPROTO_TCP2 = 6;
var MSG_PEEK = 2;
var SHUT_RD = 0;
var SHUT_WR = 1;
var SHUT_RDWR = 2;
var CONF_LIMITS = {
  num_cores: [1, 128],
  max_concurrency: [1, 1 << 22],
  max_num_buffers: [1, 1 << 22],
  rcvbuf_size: [64, 1 << 30],
  sndbuf_size: [64, 1 << 30],
  tcp_timewait: [0, 3600],
  tcp_timeout: [-1, 86400]
};

// src/mtcp/api.ts
var lastErrno = 0;
function mtcp_errno() {
  return lastErrno;
}
function fail(mctx, errno) {
  lastErrno = errno;
  if (mctx) mctx.errno = errno;
  return -1;
}
function checkCtx(mctx) {
  return mctx instanceof MtcpContext && mctx.running;
}
function mtcp_destroy_context(mctx) {
  if (!checkCtx(mctx)) return;
  for (const s of mctx.sockets.sockets) {
    if (s.kind !== 0 /* Free */) mtcp_abort(mctx, s.id);
  }
  mctx.stack.flushOutput(mctx.now());
  mctx.stop();
}
function getSocket(mctx, sockid, kind) {
  if (!checkCtx(mctx)) {
    fail(null, EBADF);
    return null;
  }
  const s = mctx.sockets.get(sockid);
  if (!s) {
    fail(mctx, EBADF);
    return null;
  }
  if (kind !== void 0 && s.kind !== kind) {
    fail(mctx, ENOTSOCK);
    return null;
  }
  return s;
}
function mtcp_socket(mctx, domain, type, protocol) {
  if (!checkCtx(mctx)) return fail(null, EBADF);
  if (domain !== AF_INET) return fail(mctx, EAFNOSUPPORT);
  if ((type & ~SOCK_NONBLOCK) !== SOCK_STREAM) return fail(mctx, EPROTOTYPE);
  if (protocol !== 0 && protocol !== IPPROTO_TCP2) return fail(mctx, EPROTONOSUPPORT);
  const s = mctx.sockets.allocate(1 /* Stream */);
  if (!s) return fail(mctx, EMFILE);
  s.nonblock = (type & SOCK_NONBLOCK) !== 0;
  return s.id;
}
function checkAddr(mctx, addr) {
  let errno = 0;
  if (!addr || typeof addr !== "object") errno = EINVAL;
  else if (addr.sin_family !== AF_INET) errno = EAFNOSUPPORT;
  else if (!Number.isInteger(addr.sin_port) || addr.sin_port < 0 || addr.sin_port > 65535) errno = EINVAL;
  else if (!Number.isInteger(addr.sin_addr) || addr.sin_addr < 0 || addr.sin_addr > 4294967295) errno = EINVAL;
  if (errno !== 0) fail(mctx, errno);
  return errno === 0;
}
function mtcp_bind(mctx, sockid, addr) {
  const s = getSocket(mctx, sockid, 1 /* Stream */);
  if (!s) return -1;
  if (!checkAddr(mctx, addr)) return -1;
  if (s.boundPort !== 0 || s.tcb) return fail(mctx, EINVAL);
  if (addr.sin_addr !== 0 && addr.sin_addr !== mctx.stack.ip) return fail(mctx, EINVAL);
  if (addr.sin_port !== 0 && !s.reuseAddr) {
    for (const o of mctx.sockets.sockets) {
      if (o !== s && o.kind !== 0 /* Free */ && o.kind !== 3 /* Epoll */ && o.boundPort === addr.sin_port && !o.reuseAddr) {
        return fail(mctx, EADDRINUSE);
      }
    }
  }
  s.boundIp = addr.sin_addr;
  s.boundPort = addr.sin_port;
  return 0;
}
function mtcp_listen(mctx, sockid, backlog) {
  const s = getSocket(mctx, sockid);
  if (!s) return -1;
  if (s.kind === 2 /* Listener */) return 0;
  if (s.kind !== 1 /* Stream */) return fail(mctx, ENOTSOCK);
  if (s.tcb) return fail(mctx, EISCONN);
  if (s.boundPort === 0) return fail(mctx, EINVAL);
  if (!Number.isInteger(backlog)) return fail(mctx, EINVAL);
  const max = mctx.sockets.capacity;
  const r = mctx.stack.tcp.listen(s.id, s.boundIp, s.boundPort, backlog <= 0 ? 128 : Math.min(backlog, max));
  if (r !== 0) return fail(mctx, r);
  s.kind = 2 /* Listener */;
  s.listener = mctx.stack.tcp.listeners.get(s.boundPort) ?? null;
  return 0;
}
function mtcp_accept(mctx, sockid, addr = null) {
  const s = getSocket(mctx, sockid);
  if (!s) return -1;
  if (s.kind !== 2 /* Listener */ || !s.listener) return fail(mctx, EINVAL);
  if (s.listener.queueCount === 0) return fail(mctx, EAGAIN);
  const ns = mctx.sockets.allocate(1 /* Stream */);
  if (!ns) return fail(mctx, EMFILE);
  const t = mctx.stack.tcp.accept(s.listener, ns.id);
  if (!t) {
    mctx.sockets.release(ns);
    return fail(mctx, EAGAIN);
  }
  ns.tcb = t;
  ns.boundIp = t.localIp;
  ns.boundPort = t.localPort;
  ns.noDelay = s.noDelay;
  t.noDelay = s.noDelay;
  if (addr) {
    addr.sin_family = AF_INET;
    addr.sin_addr = t.remoteIp;
    addr.sin_port = t.remotePort;
  }
  return ns.id;
}
function mtcp_connect(mctx, sockid, addr) {
  const s = getSocket(mctx, sockid);
  if (!s) return -1;
  if (s.kind !== 1 /* Stream */) return fail(mctx, s.kind === 2 /* Listener */ ? EISCONN : ENOTSOCK);
  if (!checkAddr(mctx, addr)) return -1;
  if (s.tcb) {
    const st = s.tcb.state;
    if (st === 2 /* SynSent */ || st === 3 /* SynReceived */) return fail(mctx, EALREADY);
    return fail(mctx, EISCONN);
  }
  if (addr.sin_addr === 0 || addr.sin_port === 0) return fail(mctx, EINVAL);
  const r = mctx.stack.tcp.connect(s.id, mctx.stack.ip, s.boundPort, addr.sin_addr, addr.sin_port);
  if (typeof r === "number") return fail(mctx, -r);
  r.noDelay = s.noDelay;
  s.tcb = r;
  s.boundIp = r.localIp;
  s.boundPort = r.localPort;
  mctx.kick();
  return fail(mctx, EINPROGRESS);
}
function detachFromEpoll(mctx, s) {
  if (s.epollId < 0) return;
  mctx.sockets.sockets[s.epollId].epoll?.forget(s.id);
  s.epollId = -1;
}
function mtcp_close(mctx, sockid) {
  const s = getSocket(mctx, sockid);
  if (!s) return -1;
  detachFromEpoll(mctx, s);
  if (s.kind === 2 /* Listener */) {
    mctx.stack.tcp.unlisten(s.boundPort);
  } else if (s.kind === 3 /* Epoll */) {
    for (const o of mctx.sockets.sockets) if (o.epollId === s.id) o.epollId = -1;
  } else if (s.tcb) {
    mctx.stack.tcp.close(s.tcb);
  }
  mctx.sockets.release(s);
  mctx.kick();
  return 0;
}
function mtcp_abort(mctx, sockid) {
  const s = getSocket(mctx, sockid);
  if (!s) return -1;
  if (s.kind !== 1 /* Stream */ || !s.tcb) return mtcp_close(mctx, sockid);
  detachFromEpoll(mctx, s);
  mctx.stack.tcp.abort(s.tcb);
  mctx.sockets.release(s);
  mctx.kick();
  return 0;
}
function mtcp_shutdown(mctx, sockid, how) {
  const s = getSocket(mctx, sockid, 1 /* Stream */);
  if (!s) return -1;
  if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) return fail(mctx, EINVAL);
  if (!s.tcb || s.tcb.state === 2 /* SynSent */ || s.tcb.state === 0 /* Closed */) return fail(mctx, ENOTCONN);
  if (how !== SHUT_WR) s.shutRd = true;
  if (how !== SHUT_RD) {
    const r = mctx.stack.tcp.shutdownWrite(s.tcb);
    if (r !== 0) return fail(mctx, r);
  }
  mctx.kick();
  return 0;
}
function streamFor(mctx, sockid) {
  const s = getSocket(mctx, sockid);
  if (!s) return null;
  if (s.kind !== 1 /* Stream */) {
    fail(mctx, s.kind === 2 /* Listener */ ? ENOTCONN : EINVAL);
    return null;
  }
  if (!s.tcb) {
    fail(mctx, ENOTCONN);
    return null;
  }
  return s;
}
function checkBuf(mctx, buf, len) {
  if (buf instanceof Uint8Array && Number.isInteger(len) && len >= 0 && len <= buf.length) return true;
  fail(mctx, EINVAL);
  return false;
}
function mtcp_read(mctx, sockid, buf, len) {
  return mtcp_recv(mctx, sockid, buf, len, 0);
}
function mtcp_recv(mctx, sockid, buf, len, flags) {
  const s = streamFor(mctx, sockid);
  if (!s) return -1;
  if (!checkBuf(mctx, buf, len)) return -1;
  if ((flags & ~MSG_PEEK) !== 0) return fail(mctx, EOPNOTSUPP);
  if (s.shutRd) return 0;
  const n = mctx.stack.tcp.receive(s.tcb, buf, 0, len, (flags & MSG_PEEK) !== 0);
  if (n < 0) return fail(mctx, -n);
  if (n > 0) mctx.kick();
  return n;
}
function mtcp_write(mctx, sockid, buf, len) {
  const s = streamFor(mctx, sockid);
  if (!s) return -1;
  if (!checkBuf(mctx, buf, len)) return -1;
  const n = mctx.stack.tcp.send(s.tcb, buf, 0, len);
  if (n < 0) return fail(mctx, -n);
  mctx.kick();
  return n;
}
function mtcp_epoll_create(mctx, size2) {
  if (!checkCtx(mctx)) return fail(null, EBADF);
  if (!Number.isInteger(size2) || size2 <= 0) return fail(mctx, EINVAL);
  const s = mctx.sockets.allocate(3 /* Epoll */);
  if (!s) return fail(mctx, EMFILE);
  s.epoll = new Epoll(mctx, mctx.sockets.capacity);
  return s.id;
}
function mtcp_epoll_ctl(mctx, epid, op, sockid, event) {
  const e = getSocket(mctx, epid, 3 /* Epoll */);
  if (!e) return -1;
  const s = getSocket(mctx, sockid);
  if (!s) return -1;
  if (s.kind === 3 /* Epoll */) return fail(mctx, EINVAL);
  if (op === MTCP_EPOLL_CTL_ADD && s.epollId >= 0 && s.epollId !== epid) return fail(mctx, EEXIST);
  if ((op === MTCP_EPOLL_CTL_MOD || op === MTCP_EPOLL_CTL_DEL) && s.epollId !== epid) return fail(mctx, ENOENT);
  const r = e.epoll.ctl(op, sockid, event);
  if (r !== 0) return fail(mctx, r);
  if (op === MTCP_EPOLL_CTL_ADD) s.epollId = epid;
  else if (op === MTCP_EPOLL_CTL_DEL) s.epollId = -1;
  return 0;
}
async function mtcp_epoll_wait(mctx, epid, events, maxevents, timeoutMs) {
  const e = getSocket(mctx, epid, 3 /* Epoll */);
  if (!e) return -1;
  if (!Array.isArray(events) || !Number.isInteger(maxevents) || maxevents <= 0 || maxevents > events.length) {
    return fail(mctx, EINVAL);
  }
  if (typeof timeoutMs !== "number" || Number.isNaN(timeoutMs)) return fail(mctx, EINVAL);
  return mctx.wait(e.epoll, events, maxevents, timeoutMs);
}

// src/io/sim.ts
var VirtualClock = class {
  #now;
  constructor(start = 0) {
    this.#now = start;
  }
  now() {
    return this.#now;
  }
  /** Move forward to t (never backward). */
  set(t) {
    if (t > this.#now) this.#now = t;
  }
};
var Prng = class {
  #a;
  #b;
  #c;
  #d;
  constructor(seed) {
    this.#a = 2654435769;
    this.#b = 608135816;
    this.#c = 3084996962;
    this.#d = seed >>> 0;
    for (let i = 0; i < 12; i++) this.nextU32();
  }
  nextU32() {
    const t = (this.#a + this.#b | 0) + this.#d | 0;
    this.#d = this.#d + 1 | 0;
    this.#a = this.#b ^ this.#b >>> 9;
    this.#b = this.#c + (this.#c << 3) | 0;
    this.#c = this.#c << 21 | this.#c >>> 11;
    this.#c = this.#c + t | 0;
    return t >>> 0;
  }
  /** Uniform in [0, 1). */
  next() {
    return this.nextU32() / 4294967296;
  }
};
var NO_IMPAIRMENTS = { loss: 0, duplicate: 0, reorder: 0, corrupt: 0, delayMs: 0, jitterMs: 0, bandwidthBps: 0 };
var TX_STAGING = 256;
var SimWire = class {
  clock = new VirtualClock();
  stats = { delivered: 0, lost: 0, duplicated: 0, reordered: 0, corrupted: 0, dropsNoSlot: 0, dropsRunt: 0, bytes: 0 };
  /** Inspect (or drop, by returning false) every frame as it is transmitted. */
  onFrame = null;
  frameCapacity;
  autoAdvance;
  #prng;
  #ports = [];
  #impair = NO_IMPAIRMENTS;
  #impairFrom = /* @__PURE__ */ new Map();
  #dropNext = /* @__PURE__ */ new Map();
  /** Last delivery time per link direction (from, to), so jitter doesn't reorder and bandwidth serializes. */
  #linkFree = /* @__PURE__ */ new Map();
  // Slot memory
  bytes;
  #slotLen;
  #freeSlots;
  #freeCount;
  // In-flight heap, ordered by (deliverAt, seq)
  #heapAt;
  #heapSeq;
  #heapSlot;
  #heapPort;
  #heapQueue;
  #heapSize = 0;
  #seq = 0;
  #advanceScheduled = false;
  constructor(opts) {
    this.#prng = new Prng(opts.seed);
    this.autoAdvance = opts.autoAdvance ?? false;
    this.frameCapacity = opts.frameCapacity ?? 2048;
    const slots = opts.slots ?? 65536;
    this.bytes = new Uint8Array(slots * this.frameCapacity);
    this.#slotLen = new Int32Array(slots);
    this.#freeSlots = new Int32Array(slots);
    for (let i = 0; i < slots; i++) this.#freeSlots[i] = slots - 1 - i;
    this.#freeCount = slots;
    this.#heapAt = new Float64Array(slots);
    this.#heapSeq = new Float64Array(slots);
    this.#heapSlot = new Int32Array(slots);
    this.#heapPort = new Int32Array(slots);
    this.#heapQueue = new Int32Array(slots);
  }
  /** The PRNG the wire draws from (tests may share it for their own choices). */
  get prng() {
    return this.#prng;
  }
  /** A new port with this MAC. */
  attach(mac, opts = {}) {
    const d = new SimDriver(this, this.#ports.length, mac, opts.queues ?? 1);
    this.#ports.push(d);
    return d;
  }
  /** Set impairments wire-wide, or for frames sent by `from`. */
  impair(imp, from) {
    if (from) this.#impairFrom.set(from, { ...this.#impairFrom.get(from) ?? this.#impair, ...imp });
    else this.#impair = { ...this.#impair, ...imp };
  }
  /** Drop the next n frames (sent by `from`, or by anyone). */
  dropNext(n, from) {
    this.#dropNext.set(from ?? null, n);
  }
  advanceTo(t) {
    this.clock.set(t);
  }
  advanceBy(ms) {
    this.clock.set(this.clock.now() + ms);
  }
  /** Earliest pending delivery, Infinity when nothing is in flight. */
  nextEventAt() {
    return this.#heapSize > 0 ? this.#heapAt[0] : Infinity;
  }
  // ---- internals used by SimDriver --------------------------------------
  /** Copy a transmitted frame onto the wire. */
  transmit(from, buf, off, len) {
    if (len < 14) {
      this.stats.dropsRunt++;
      return;
    }
    if (this.onFrame && !this.onFrame(from, buf, off, len)) {
      this.stats.lost++;
      return;
    }
    for (const key of [from, null]) {
      const n = this.#dropNext.get(key);
      if (n !== void 0 && n > 0) {
        this.#dropNext.set(key, n - 1);
        this.stats.lost++;
        return;
      }
    }
    const imp = this.#impairFrom.get(from) ?? this.#impair;
    const rnd = this.#prng;
    if (imp.loss > 0 && rnd.next() < imp.loss) {
      this.stats.lost++;
      return;
    }
    const copies = imp.duplicate > 0 && rnd.next() < imp.duplicate ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    const dst = (buf[off] << 8 | buf[off + 1]) * 4294967296 + ((buf[off + 2] << 24 | buf[off + 3] << 16 | buf[off + 4] << 8 | buf[off + 5]) >>> 0);
    for (let c = 0; c < copies; c++) {
      for (const to of this.#ports) {
        if (to === from || to.closed) continue;
        if (dst !== 281474976710655 && dst !== to.mac) continue;
        this.#enqueue(from, to, buf, off, len, imp);
      }
    }
  }
  #enqueue(from, to, buf, off, len, imp) {
    if (this.#freeCount === 0) {
      this.stats.dropsNoSlot++;
      return;
    }
    const slot = this.#freeSlots[--this.#freeCount];
    const base = slot * this.frameCapacity;
    this.bytes.set(buf.subarray(off, off + len), base);
    this.#slotLen[slot] = len;
    const rnd = this.#prng;
    if (imp.corrupt > 0 && rnd.next() < imp.corrupt) {
      const bit = rnd.nextU32() % (len * 8);
      this.bytes[base + (bit >>> 3)] ^= 1 << (bit & 7);
      this.stats.corrupted++;
    }
    const now = this.clock.now();
    const link = from.index * 65536 + to.index;
    const linkFree = this.#linkFree.get(link) ?? 0;
    let at = now + imp.delayMs + (imp.jitterMs > 0 ? rnd.next() * imp.jitterMs : 0);
    if (imp.bandwidthBps > 0) {
      const start = linkFree > now ? linkFree : now;
      at = start + len * 8 * 1e3 / imp.bandwidthBps + imp.delayMs;
      this.#linkFree.set(link, at - imp.delayMs);
    } else if (at < linkFree) {
      at = linkFree;
    }
    if (imp.bandwidthBps === 0) this.#linkFree.set(link, at);
    if (imp.reorder > 0 && rnd.next() < imp.reorder) {
      at += (imp.delayMs > 0 ? imp.delayMs : 1) * (1 + rnd.next());
      this.stats.reordered++;
    }
    this.#heapPush(at, slot, to.index, to.selectQueue(this.bytes, base, len));
    if (to.waiting) this.#scheduleAdvance();
  }
  #heapPush(at, slot, port, queue) {
    let i = this.#heapSize++;
    const seq = this.#seq++;
    while (i > 0) {
      const p2 = i - 1 >> 1;
      if (this.#heapAt[p2] < at || this.#heapAt[p2] === at && this.#heapSeq[p2] < seq) break;
      this.#heapAt[i] = this.#heapAt[p2];
      this.#heapSeq[i] = this.#heapSeq[p2];
      this.#heapSlot[i] = this.#heapSlot[p2];
      this.#heapPort[i] = this.#heapPort[p2];
      this.#heapQueue[i] = this.#heapQueue[p2];
      i = p2;
    }
    this.#heapAt[i] = at;
    this.#heapSeq[i] = seq;
    this.#heapSlot[i] = slot;
    this.#heapPort[i] = port;
    this.#heapQueue[i] = queue;
  }
  #heapPop() {
    const n = --this.#heapSize;
    if (n === 0) return;
    const at = this.#heapAt[n];
    const seq = this.#heapSeq[n];
    const slot = this.#heapSlot[n];
    const port = this.#heapPort[n];
    const queue = this.#heapQueue[n];
    let i = 0;
    for (; ; ) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && (this.#heapAt[c + 1] < this.#heapAt[c] || this.#heapAt[c + 1] === this.#heapAt[c] && this.#heapSeq[c + 1] < this.#heapSeq[c])) c++;
      if (at < this.#heapAt[c] || at === this.#heapAt[c] && seq < this.#heapSeq[c]) break;
      this.#heapAt[i] = this.#heapAt[c];
      this.#heapSeq[i] = this.#heapSeq[c];
      this.#heapSlot[i] = this.#heapSlot[c];
      this.#heapPort[i] = this.#heapPort[c];
      this.#heapQueue[i] = this.#heapQueue[c];
      i = c;
    }
    this.#heapAt[i] = at;
    this.#heapSeq[i] = seq;
    this.#heapSlot[i] = slot;
    this.#heapPort[i] = port;
    this.#heapQueue[i] = queue;
  }
  /** Move every frame due by now into its port's receive queue. */
  deliverDue() {
    const now = this.clock.now();
    while (this.#heapSize > 0 && this.#heapAt[0] <= now) {
      const slot = this.#heapSlot[0];
      const port = this.#ports[this.#heapPort[0]];
      const queue = this.#heapQueue[0];
      this.#heapPop();
      if (port.closed || !port.accept(queue, slot)) {
        this.freeSlot(slot);
        this.stats.dropsNoSlot++;
        continue;
      }
      this.stats.delivered++;
      this.stats.bytes += this.#slotLen[slot];
    }
  }
  slotLen(slot) {
    return this.#slotLen[slot];
  }
  freeSlot(slot) {
    this.#freeSlots[this.#freeCount++] = slot;
  }
  /** Auto-advance: re-evaluate once the current turn's microtasks are done. */
  #scheduleAdvance() {
    if (this.#advanceScheduled) return;
    this.#advanceScheduled = true;
    setImmediate(() => {
      this.#advanceScheduled = false;
      this.#advance();
    });
  }
  /** Called when a port starts waiting or a frame arrives for a waiting port. */
  portWaits() {
    this.#scheduleAdvance();
  }
  #advance() {
    this.deliverDue();
    let allWaiting = true;
    let earliest = this.nextEventAt();
    for (const p2 of this.#ports) {
      if (p2.closed) continue;
      if (!p2.waiting) {
        allWaiting = false;
        continue;
      }
      if (p2.hasFrames()) {
        p2.resolveWait();
        allWaiting = false;
        continue;
      }
      if (p2.waitDeadline < earliest) earliest = p2.waitDeadline;
    }
    if (!this.autoAdvance || !allWaiting || earliest === Infinity) {
      if (!this.autoAdvance) {
        for (const p2 of this.#ports) if (p2.waiting && !p2.closed) p2.resolveWait();
      }
      return;
    }
    this.clock.set(earliest);
    this.deliverDue();
    const now = this.clock.now();
    for (const p2 of this.#ports) {
      if (p2.closed || !p2.waiting) continue;
      if (p2.hasFrames() || p2.waitDeadline <= now) p2.resolveWait();
    }
  }
};
var SimDriver = class {
  constructor(wire, index, mac, queues) {
    this.wire = wire;
    this.index = index;
    this.mac = mac;
    this.queues = queues;
    this.frameCapacity = wire.frameCapacity;
    this.#rx = [];
    for (let q = 0; q < queues; q++) this.#rx.push(new Int32Array(4096));
    this.#rxHead = new Int32Array(queues);
    this.#rxCount = new Int32Array(queues);
    this.#tx = new Uint8Array(TX_STAGING * this.frameCapacity);
  }
  wire;
  index;
  mac;
  queues;
  name = "sim";
  frameCapacity;
  stats = { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, txDropped: 0 };
  closed = false;
  /** A waitRx is outstanding. */
  waiting = false;
  waitDeadline = Infinity;
  #resolve = null;
  /** Per-queue receive rings of wire slot ids. */
  #rx;
  #rxHead;
  #rxCount;
  #tx;
  /** Receive queue for a frame: a symmetric hash of the IPv4 addresses and ports, so both directions agree. */
  selectQueue(buf, off, len) {
    if (this.queues === 1 || len < 38 || buf[off + 12] !== 8 || buf[off + 13] !== 0) return 0;
    const ip = off + 14;
    const ihl = (buf[ip] & 15) << 2;
    let h = 0;
    for (let k = 12; k < 20; k += 4) h ^= buf[ip + k] << 24 | buf[ip + k + 1] << 16 | buf[ip + k + 2] << 8 | buf[ip + k + 3];
    if (len >= 14 + ihl + 4) h ^= (buf[ip + ihl] << 8 | buf[ip + ihl + 1]) ^ (buf[ip + ihl + 2] << 8 | buf[ip + ihl + 3]);
    h = Math.imul(h ^ h >>> 16, 73244475);
    return ((h ^ h >>> 16) >>> 0) % this.queues;
  }
  /** The wire delivers a slot to a queue; false when the queue is full. */
  accept(queue, slot) {
    const ring = this.#rx[queue];
    if (this.#rxCount[queue] === ring.length) return false;
    ring[(this.#rxHead[queue] + this.#rxCount[queue]) % ring.length] = slot;
    this.#rxCount[queue]++;
    return true;
  }
  hasFrames() {
    for (let q = 0; q < this.queues; q++) if (this.#rxCount[q] > 0) return true;
    return false;
  }
  rxBurst(queue, out2, max) {
    this.wire.deliverDue();
    const ring = this.#rx[queue];
    let n = this.#rxCount[queue];
    if (n > max) n = max;
    if (n > out2.capacity) n = out2.capacity;
    const cap = this.frameCapacity;
    let head = this.#rxHead[queue];
    for (let i = 0; i < n; i++) {
      const slot = ring[head];
      head = head + 1 === ring.length ? 0 : head + 1;
      out2.buf[i] = this.wire.bytes;
      out2.off[i] = slot * cap;
      out2.len[i] = this.wire.slotLen(slot);
      out2.id[i] = slot;
      this.stats.rxFrames++;
      this.stats.rxBytes += out2.len[i];
    }
    this.#rxHead[queue] = head;
    this.#rxCount[queue] -= n;
    out2.count = n;
    return n;
  }
  rxRelease(_queue, batch) {
    for (let i = 0; i < batch.count; i++) this.wire.freeSlot(batch.id[i]);
    batch.count = 0;
  }
  txAlloc(_queue, out2, max) {
    let n = max < TX_STAGING ? max : TX_STAGING;
    if (n > out2.capacity) n = out2.capacity;
    const cap = this.frameCapacity;
    for (let i = 0; i < n; i++) {
      out2.buf[i] = this.#tx;
      out2.off[i] = i * cap;
      out2.len[i] = cap;
      out2.id[i] = i;
    }
    out2.count = n;
    return n;
  }
  txBurst(_queue, batch, count) {
    for (let i = 0; i < count; i++) {
      const len = batch.len[i];
      this.stats.txFrames++;
      this.stats.txBytes += len;
      if (this.closed) continue;
      this.wire.transmit(this, batch.buf[i], batch.off[i], len);
    }
    batch.count = 0;
  }
  waitRx(_queue, timeoutMs) {
    if (this.closed) return Promise.resolve();
    if (this.#resolve) this.resolveWait();
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.waiting = true;
      this.waitDeadline = this.wire.clock.now() + (timeoutMs > 0 ? timeoutMs : 0);
      this.wire.portWaits();
    });
  }
  resolveWait() {
    const r = this.#resolve;
    this.#resolve = null;
    this.waiting = false;
    this.waitDeadline = Infinity;
    if (r) r();
  }
  wakeRx() {
    if (this.waiting) this.resolveWait();
  }
  close() {
    if (this.closed) return;
    this.closed = true;
    for (let q = 0; q < this.queues; q++) {
      const ring = this.#rx[q];
      while (this.#rxCount[q] > 0) {
        this.wire.freeSlot(ring[this.#rxHead[q]]);
        this.#rxHead[q] = (this.#rxHead[q] + 1) % ring.length;
        this.#rxCount[q]--;
      }
    }
    this.resolveWait();
    this.wire.portWaits();
  }
};

// test/helpers/echo-client.ts
function fill(buf, len, i, off) {
  for (let k = 0; k < len; k++) {
    const x = (off + k) * 2654435761 + i * 40503;
    buf[k] = (x ^ x >>> 13) & 255;
  }
}
async function echoClient(mctx, ip, port, conns2, size2, timeoutMs) {
  const ep = mtcp_epoll_create(mctx, 1024);
  const events = createEpollEvents(1024);
  const out2 = { completed: 0, mismatches: 0, errors: [] };
  const state = /* @__PURE__ */ new Map();
  const chunk = new Uint8Array(16384);
  const rbuf = new Uint8Array(65536);
  for (let i = 0; i < conns2; i++) {
    const s = mtcp_socket(mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s < 0) throw new Error(`socket: ${errnoName(mtcp_errno())}`);
    const r = mtcp_connect(mctx, s, { sin_family: AF_INET, sin_addr: ip, sin_port: port });
    if (r < 0 && mtcp_errno() !== EINPROGRESS) throw new Error(`connect: ${errnoName(mtcp_errno())}`);
    state.set(s, { i, sent: 0, got: 0, tx: createHash("sha256"), rx: createHash("sha256"), shut: false });
    mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_ADD, s, { events: MTCP_EPOLLOUT | MTCP_EPOLLIN, data: { sockid: s, ptr: null } });
  }
  const deadline = mctx.now() + timeoutMs;
  const finish = (s, error) => {
    const st = state.get(s);
    if (error) out2.errors.push(`conn ${st.i}: ${error}`);
    else if (st.tx.digest("hex") !== st.rx.digest("hex")) out2.mismatches++;
    else out2.completed++;
    state.delete(s);
    mtcp_close(mctx, s);
  };
  while (state.size > 0 && mctx.now() < deadline) {
    const n = await mtcp_epoll_wait(mctx, ep, events, 1024, 1e3);
    for (let k = 0; k < n; k++) {
      const s = events[k].data.sockid;
      const ev = events[k].events;
      const st = state.get(s);
      if (!st) continue;
      if (ev & MTCP_EPOLLOUT && st.sent < size2) {
        while (st.sent < size2) {
          const len = Math.min(chunk.length, size2 - st.sent);
          fill(chunk, len, st.i, st.sent);
          const w = mtcp_write(mctx, s, chunk, len);
          if (w < 0) {
            if (mtcp_errno() !== EAGAIN) finish(s, `write: ${errnoName(mtcp_errno())}`);
            break;
          }
          st.tx.update(chunk.subarray(0, w));
          st.sent += w;
          if (w < len) break;
        }
        if (!state.has(s)) continue;
        if (st.sent === size2 && !st.shut) {
          st.shut = true;
          mtcp_shutdown(mctx, s, SHUT_WR);
          mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_MOD, s, { events: MTCP_EPOLLIN, data: { sockid: s, ptr: null } });
        }
      }
      if (ev & (MTCP_EPOLLIN | MTCP_EPOLLHUP | MTCP_EPOLLERR)) {
        for (; ; ) {
          const r = mtcp_read(mctx, s, rbuf, rbuf.length);
          if (r > 0) {
            st.rx.update(rbuf.subarray(0, r));
            st.got += r;
            continue;
          }
          if (r === 0) {
            finish(s, st.got === size2 ? void 0 : `EOF after ${st.got} of ${size2} bytes`);
          } else if (mtcp_errno() !== EAGAIN) {
            finish(s, `read: ${errnoName(mtcp_errno())}`);
          }
          break;
        }
      }
    }
  }
  for (const [s, st] of state) {
    out2.errors.push(`conn ${st.i}: timed out (sent ${st.sent}, got ${st.got})`);
    mtcp_close(mctx, s);
  }
  mtcp_close(mctx, ep);
  return out2;
}

// test/helpers/stacks.ts
var SERVER_IP = 3323068417;
function confText(ip, mac, o = {}) {
  const io = o.io ?? "sim";
  const port = `${io}0`;
  return [
    `io = ${io}`,
    `port = ${port}`,
    `${port}.addr = ${ip}/24`,
    `${port}.mac = ${mac}`,
    `max_concurrency = ${o.maxConcurrency ?? 1024}`,
    `max_num_buffers = ${o.buffers ?? o.maxConcurrency ?? 1024}`,
    `rcvbuf = ${o.rcvbuf ?? 16384}`,
    `sndbuf = ${o.sndbuf ?? 16384}`,
    `tcp_timeout = ${o.tcpTimeout ?? 30}`,
    `tcp_timewait = ${o.tcpTimewait ?? 0}`
  ].join("\n");
}
function config(ip, mac, o = {}) {
  return parseMtcpConf(confText(ip, mac, o), `<${ip}>`);
}
function simPair(o = {}) {
  const wire = new SimWire({ seed: o.seed ?? 1, autoAdvance: true });
  const sr = new MtcpRuntime(config("198.18.0.1", "02:00:c6:12:00:01", o), { sim: wire, secret: [1, 2] });
  const cr = new MtcpRuntime(config("198.18.0.2", "02:00:c6:12:00:02", o), { sim: wire, secret: [3, 4] });
  const server2 = sr.createContext(0);
  const client = cr.createContext(0);
  return {
    wire,
    server: server2,
    client,
    async close() {
      mtcp_destroy_context(client);
      mtcp_destroy_context(server2);
      await Promise.all([client.closed, server2.closed]);
    }
  };
}

// bench/lib/mtcp-workload.ts
var MAX_EVENTS = 1024;
function epollEvent(events, sockid) {
  return { events, data: { sockid, ptr: null } };
}
async function mtcpServer(mctx, port, mode, stop2) {
  const ep = mtcp_epoll_create(mctx, MAX_EVENTS);
  const lsock = mtcp_socket(mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (mtcp_bind(mctx, lsock, { sin_family: AF_INET, sin_addr: 0, sin_port: port }) < 0) {
    throw new Error(`bind: ${errnoName(mtcp_errno())}`);
  }
  if (mtcp_listen(mctx, lsock, 4096) < 0) throw new Error(`listen: ${errnoName(mtcp_errno())}`);
  mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_ADD, lsock, epollEvent(MTCP_EPOLLIN, lsock));
  const events = createEpollEvents(MAX_EVENTS);
  const buf = new Uint8Array(256 * 1024);
  const backlog = /* @__PURE__ */ new Map();
  const ended = /* @__PURE__ */ new Set();
  let received = 0;
  const closeSock = (s) => {
    backlog.delete(s);
    ended.delete(s);
    mtcp_close(mctx, s);
  };
  while (!stop2()) {
    const n = await mtcp_epoll_wait(mctx, ep, events, MAX_EVENTS, 100);
    for (let i = 0; i < n; i++) {
      const s = events[i].data.sockid;
      const ev = events[i].events;
      if (s === lsock) {
        for (; ; ) {
          const c = mtcp_accept(mctx, lsock, null);
          if (c < 0) break;
          mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_ADD, c, epollEvent(MTCP_EPOLLIN, c));
        }
        continue;
      }
      if (ev & MTCP_EPOLLERR) {
        closeSock(s);
        continue;
      }
      const pending = backlog.get(s);
      if (pending) {
        if (!(ev & MTCP_EPOLLOUT)) {
          if (ev & MTCP_EPOLLHUP) closeSock(s);
        } else {
          const w = mtcp_write(mctx, s, pending, pending.length);
          if (w === pending.length) {
            backlog.delete(s);
            if (ended.has(s)) closeSock(s);
            else mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_MOD, s, epollEvent(MTCP_EPOLLIN, s));
          } else if (w > 0) {
            backlog.set(s, pending.subarray(w));
          } else if (mtcp_errno() !== EAGAIN) {
            closeSock(s);
          }
        }
        continue;
      }
      if (ev & (MTCP_EPOLLIN | MTCP_EPOLLHUP)) {
        for (; ; ) {
          const r = mtcp_read(mctx, s, buf, buf.length);
          if (r > 0) {
            received += r;
            if (mode === "echo") {
              const w = mtcp_write(mctx, s, buf, r);
              const written = w < 0 ? 0 : w;
              if (written < r) {
                backlog.set(s, buf.slice(written, r));
                mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_MOD, s, epollEvent(MTCP_EPOLLOUT, s));
                break;
              }
            }
            continue;
          }
          if (r === 0 && backlog.has(s)) ended.add(s);
          else if (r === 0 || mtcp_errno() !== EAGAIN) closeSock(s);
          break;
        }
      }
    }
  }
  for (const s of backlog.keys()) mtcp_close(mctx, s);
  mtcp_close(mctx, lsock);
  mtcp_close(mctx, ep);
  return received;
}

// ../../tmp/dbg/run2.ts
var origFail = TcpEngine.prototype.fail;
TcpEngine.prototype.fail = function(t, errno, rst) {
  const peer = [...globalThis.P.client.stack.tcp.tcbs].find((x) => x.inUse && x.localPort === t.remotePort);
  const f = (x) => x && { st: STATE_NAMES[x.state], sndUna: x.sndUna, sndNxt: x.sndNxt, sndMax: x.sndMax, sndWnd: x.sndWnd, cwnd: x.cc.cwnd, sb: x.sndBuf.length, rtoAt: x.rtoAt, rcvNxt: x.rcvNxt, readable: x.rcvBuf.readable, free: x.rcvBuf.free, adv: x.rcvAdvRight, ooo: x.rcvBuf.oooCount, finQ: x.finQueued, finSent: x.finSent, ackP: x.ackPending, out: x.inOutputList, sock: x.sockid, idleAt: x.idleAt, retries: x.retries, rto: x.rtt.rtoMs, tw: x.timeWaitAt };
  console.log("TCB", f(t), "PEER", f(peer), "now", globalThis.P.wire.clock.now());
  console.log("FAIL", t.localPort, t.remotePort, STATE_NAMES[t.state], errno, rst, new Error().stack?.split("\n").slice(2, 6).join(" | "));
  return origFail.call(this, t, errno, rst);
};
var origReset = TcpEngine.prototype.sendResetFor;
TcpEngine.prototype.sendResetFor = function(seg, s, d) {
  console.log("RESETFOR", seg.srcPort, seg.dstPort, seg.flags, new Error().stack?.split("\n").slice(2, 5).join(" | "));
  return origReset.call(this, seg, s, d);
};
var conns = Number(process.argv[2] ?? 10);
var size = Number(process.argv[3] ?? 1 << 20);
var p = simPair({ maxConcurrency: 2048, rcvbuf: 65536, sndbuf: 65536 });
globalThis.P = p;
var stop = false;
var server = mtcpServer(p.server, 7, "echo", () => stop);
var out = await echoClient(p.client, SERVER_IP, 7, conns, size, 6e5);
stop = true;
await server;
console.log("done", out.completed, out.mismatches, out.errors.slice(0, 5), p.server.stack.stats.dropsByName(), p.client.stack.stats.dropsByName());
await p.close();
