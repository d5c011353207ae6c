/*
 * The DPDK driver's native half (src/io/dpdk.ts loads it with koffi).
 *
 * Why a shim rather than calling rte_eth_fp_ops' function pointers from
 * JavaScript: rte_eth_rx_burst, rte_eth_tx_burst and rte_pktmbuf_alloc_bulk
 * are static inline, and mbuf allocation has no exported function at all (the
 * mempool's get is inline down to its per-lcore cache), so transmit needs C
 * anyway; and the structs port setup needs (rte_eth_conf, rte_eth_dev_info)
 * and the mbuf fields change layout between releases. Compiled against the
 * installed headers, this file gets every offset from the compiler. The price,
 * measured by bench/dpdk-ffi.ts on memif: a receive through the shim costs
 * 214-306 ns per empty poll and 60-108 ns per frame, JavaScript calling the
 * PMD through fp_ops and decoding 22.11's mbuf layout itself 115-193 ns and
 * 44-50 ns; against the microsecond the TCP stack spends on each frame, that
 * is a few percent, for a driver that cannot break on the next DPDK release.
 *
 * Frames stay in mbufs: the driver maps the mempool's memory once, and these
 * functions report each frame as an offset into that mapping.
 */
#define _GNU_SOURCE
#define ALLOW_EXPERIMENTAL_API /* rte_intr_instance_alloc and its setters */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_interrupts.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

/* Bumped when a signature below changes; src/io/dpdk.ts checks it. */
#define MTCPTS_SHIM_ABI 4

/* Offload bits reported by mtcpts_port_setup and carried per received frame. */
#define OFFLOAD_TX_CKSUM 1u /* the port fills IPv4 and TCP checksums */
#define OFFLOAD_RX_CKSUM 2u /* the port verifies them and says so per frame */
#define OFFLOAD_TSO 4u      /* the port cuts large TCP segments (with TX checksums) */
#define RX_CKSUM_GOOD 1u    /* per frame: IPv4 and TCP checksums verified good */
#define RX_CKSUM_BAD 2u     /* per frame: the port found one of them bad */

/*
 * Symmetric RSS: with the key 0x6d5a repeated, the Toeplitz hash of
 * (src, dst, sport, dport) equals that of (dst, src, dport, sport), so both
 * directions of a flow land on one queue (Woo and Park, "Scalable TCP Session
 * Monitoring with Symmetric Receive-side Scaling", 2012; mTCP uses the same key).
 */
static uint8_t symmetric_rss_key[40] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

int mtcpts_abi(void) { return MTCPTS_SHIM_ABI; }

int mtcpts_errno(void) { return rte_errno; }

static void barrier_init(void);

/*
 * rte_eal_init, leaving the calling thread's CPU affinity as it was: EAL pins
 * its caller to the first CPU of -c, which would put every process on one host
 * on CPU 0. In mtcp-ts (as in mTCP) a thread is pinned by mtcp_core_affinitize.
 * Then the interrupt-thread barrier that mtcpts_port_close uses is set up.
 */
int mtcpts_eal_init(int argc, char **argv)
{
	cpu_set_t before;
	int saved = pthread_getaffinity_np(pthread_self(), sizeof(before), &before) == 0;
	int rc = rte_eal_init(argc, argv);
	if (saved)
		pthread_setaffinity_np(pthread_self(), sizeof(before), &before);
	if (rc >= 0)
		barrier_init();
	return rc;
}

/* Per port with TSO: its MTU, and whether its segment size must leave room for the Ethernet header too. */
static uint16_t port_mtu[RTE_MAX_ETHPORTS];
static uint8_t tso_counts_l2[RTE_MAX_ETHPORTS];

/*
 * Configure and start `port` with `nq` RX/TX queue pairs, RSS over IPv4/TCP
 * with the symmetric key when nq > 1, and checksum offload when the port has
 * it. Returns the OFFLOAD_* bits in use (>= 0) or a negative errno.
 */
int mtcpts_port_setup(uint16_t port, uint16_t nq, uint16_t nb_rxd, uint16_t nb_txd,
		      struct rte_mempool *pool, uint16_t mtu)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	int offloads = 0;
	int rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0)
		return rc;
	if (nq > info.max_rx_queues || nq > info.max_tx_queues)
		return -EINVAL;
	memset(&conf, 0, sizeof(conf));
	if (nq > 1) {
		uint64_t hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP) & info.flow_type_rss_offloads;
		if (hf == 0)
			return -ENOTSUP; /* several queues but no way to spread flows over them */
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = symmetric_rss_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = sizeof(symmetric_rss_key);
		conf.rx_adv_conf.rss_conf.rss_hf = hf;
	}
	const uint64_t tx_ck = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	const uint64_t rx_ck = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
	if ((info.tx_offload_capa & tx_ck) == tx_ck) {
		conf.txmode.offloads |= tx_ck;
		offloads |= OFFLOAD_TX_CKSUM;
	}
	if ((info.rx_offload_capa & rx_ck) == rx_ck) {
		conf.rxmode.offloads |= rx_ck;
		offloads |= OFFLOAD_RX_CKSUM;
	}
	/* TSO needs the TX checksums; one large segment travels in one large mbuf (see mtcpts_tx). */
	if ((offloads & OFFLOAD_TX_CKSUM) && (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_TSO)) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
		if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
			conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS; /* the segments a PMD's own GSO makes are chains */
		offloads |= OFFLOAD_TSO;
		/* net_tap (22.11) refuses a segment whose size with every header, Ethernet's too, exceeds the MTU. */
		tso_counts_l2[port] = strcmp(info.driver_name, "net_tap") == 0;
		port_mtu[port] = mtu;
	}
	rc = rte_eth_dev_configure(port, nq, nq, &conf);
	if (rc != 0)
		return rc;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (rc != 0)
		return rc;
	int socket = rte_eth_dev_socket_id(port);
	for (uint16_t q = 0; q < nq; q++) {
		struct rte_eth_rxconf rxc = info.default_rxconf;
		struct rte_eth_txconf txc = info.default_txconf;
		rxc.offloads = conf.rxmode.offloads;
		txc.offloads = conf.txmode.offloads;
		rc = rte_eth_rx_queue_setup(port, q, nb_rxd, socket, &rxc, pool);
		if (rc != 0)
			return rc;
		rc = rte_eth_tx_queue_setup(port, q, nb_txd, socket, &txc);
		if (rc != 0)
			return rc;
	}
	rc = rte_eth_dev_set_mtu(port, mtu);
	if (rc != 0 && rc != -ENOTSUP && rc != -ENOSYS)
		return rc;
	rc = rte_eth_dev_start(port);
	if (rc != 0)
		return rc;
	return offloads;
}

/*
 * EAL's interrupt thread runs some PMDs' control path: memif handles its
 * peer's messages there, and when the peer disconnects it frees the port's
 * regions. A stop from another thread at that moment frees them twice (22.11
 * prints "EAL: Error: Invalid memory"). The barrier below waits until that
 * thread has handled every event queued to it: an eventfd of our own, written
 * now, is seen after them. (An alarm would do the same once, but 22.11's
 * rte_eal_cleanup then unregisters the alarm's source, which makes the thread
 * rescan its sources after DPDK's memory is unmapped; memif's closed listener
 * stays one of them, and the process crashes at exit. This source is never
 * unregistered.)
 */
static struct rte_intr_handle *barrier_handle;
static int barrier_fd = -1;
static unsigned int barrier_passed; /* bumped on the interrupt thread */
static pthread_mutex_t barrier_lock = PTHREAD_MUTEX_INITIALIZER;

static void barrier_reached(void *arg)
{
	uint64_t count;
	(void)arg;
	if (read(barrier_fd, &count, sizeof(count)) == sizeof(count))
		__atomic_add_fetch(&barrier_passed, 1, __ATOMIC_RELEASE);
}

static void barrier_init(void)
{
	barrier_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (barrier_fd < 0)
		return;
	barrier_handle = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
	if (barrier_handle == NULL || rte_intr_fd_set(barrier_handle, barrier_fd) != 0 ||
	    rte_intr_type_set(barrier_handle, RTE_INTR_HANDLE_EXT) != 0 ||
	    rte_intr_callback_register(barrier_handle, barrier_reached, NULL) != 0) {
		rte_intr_instance_free(barrier_handle);
		barrier_handle = NULL;
		close(barrier_fd);
		barrier_fd = -1;
	}
}

/* Wait (at most 5 s) until the interrupt thread has handled the events queued before this call. */
static void interrupt_thread_barrier(void)
{
	const struct timespec nap = { .tv_nsec = 100 * 1000 };
	const uint64_t one = 1;
	if (barrier_handle == NULL)
		return;
	pthread_mutex_lock(&barrier_lock);
	unsigned int before = __atomic_load_n(&barrier_passed, __ATOMIC_ACQUIRE);
	if (write(barrier_fd, &one, sizeof(one)) == sizeof(one))
		for (int i = 0; i < 50000 && __atomic_load_n(&barrier_passed, __ATOMIC_ACQUIRE) == before; i++)
			nanosleep(&nap, NULL);
	pthread_mutex_unlock(&barrier_lock);
}

/* Stop and close `port` once a peer's disconnect already sent to us has been handled (see above). */
int mtcpts_port_close(uint16_t port)
{
	interrupt_thread_barrier();
	rte_eth_dev_stop(port);
	return rte_eth_dev_close(port);
}

struct range {
	uintptr_t lo, hi;
};

static void widen(struct rte_mempool *mp, void *arg, struct rte_mempool_memhdr *memhdr, unsigned idx)
{
	(void)mp;
	(void)idx;
	struct range *r = arg;
	uintptr_t lo = (uintptr_t)memhdr->addr, hi = lo + memhdr->len;
	if (r->lo == 0 || lo < r->lo)
		r->lo = lo;
	if (hi > r->hi)
		r->hi = hi;
}

/* The address range holding every object of `pool`: out[0] = start, out[1] = end. */
void mtcpts_pool_range(struct rte_mempool *pool, uint64_t *out)
{
	struct range r = {0, 0};
	rte_mempool_mem_iter(pool, widen, &r);
	out[0] = r.lo;
	out[1] = r.hi;
}

/*
 * Receive up to n frames. For frame i: meta[3i] = offset of its first byte
 * from `base`, meta[3i + 1] = its length, meta[3i + 2] = RX_CKSUM_* bits.
 * A chained (multi-segment) mbuf cannot be one view: it is freed and counted
 * in *dropped, and the frames after it move up.
 */
uint16_t mtcpts_rx(uint16_t port, uint16_t q, struct rte_mbuf **pkts, uint16_t n, uintptr_t base,
		   uint32_t *meta, uint32_t *dropped)
{
	uint16_t got = rte_eth_rx_burst(port, q, pkts, n), kept = 0;
	for (uint16_t i = 0; i < got; i++) {
		struct rte_mbuf *m = pkts[i];
		if (m->nb_segs != 1) {
			rte_pktmbuf_free(m);
			(*dropped)++;
			continue;
		}
		uint64_t ol = m->ol_flags;
		uint32_t flags = 0;
		if ((ol & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
		    (ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD)
			flags = RX_CKSUM_BAD;
		else if ((ol & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
			 (ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
			flags = RX_CKSUM_GOOD;
		pkts[kept] = m;
		meta[3 * kept] = (uint32_t)(rte_pktmbuf_mtod(m, uintptr_t) - base);
		meta[3 * kept + 1] = m->data_len;
		meta[3 * kept + 2] = flags;
		kept++;
	}
	return kept;
}

/* Return n mbufs to their pool. */
void mtcpts_free(struct rte_mbuf **pkts, uint16_t n)
{
	rte_pktmbuf_free_bulk(pkts, n);
}

/*
 * Take up to n empty mbufs for transmission. For mbuf i: meta[2i] = offset of
 * its data room from `base`, meta[2i + 1] = the bytes it can hold.
 * Returns how many it took (fewer when the pool runs low).
 */
uint16_t mtcpts_alloc(struct rte_mempool *pool, struct rte_mbuf **pkts, uint16_t n, uintptr_t base, uint32_t *meta)
{
	while (n > 0 && rte_pktmbuf_alloc_bulk(pool, pkts, n) != 0)
		n >>= 1;
	for (uint16_t i = 0; i < n; i++) {
		meta[2 * i] = (uint32_t)(rte_pktmbuf_mtod(pkts[i], uintptr_t) - base);
		meta[2 * i + 1] = rte_pktmbuf_tailroom(pkts[i]);
	}
	return n;
}

/*
 * For a port that fills checksums: IPv4 checksum zero, TCP checksum the
 * pseudo-header sum, and the mbuf told where the headers are (the contract of
 * RTE_MBUF_F_TX_IP_CKSUM / RTE_MBUF_F_TX_TCP_CKSUM). With `segment` > 0 the
 * frame is one large TCP segment for the port to cut into segments of that
 * many payload bytes (RTE_MBUF_F_TX_TCP_SEG, whose pseudo-header sum leaves
 * out the length).
 */
static void offload_checksums(struct rte_mbuf *m, uint16_t port, uint32_t segment)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	if (m->data_len < 14 + 20 || p[12] != 0x08 || p[13] != 0x00)
		return;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + 14);
	uint16_t l3 = (uint16_t)((ip->version_ihl & 0x0f) * 4);
	m->l2_len = 14;
	m->l3_len = l3;
	m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	ip->hdr_checksum = 0;
	if (ip->next_proto_id == IPPROTO_TCP && m->data_len >= 14 + l3 + 20) {
		struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(p + 14 + l3);
		m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
		if (segment > 0) {
			uint16_t headers = (uint16_t)(14 + l3 + (tcp->data_off >> 4) * 4);
			uint16_t most = (uint16_t)(port_mtu[port] + 14 - headers - (tso_counts_l2[port] ? 14 : 0));
			m->l4_len = (uint16_t)((tcp->data_off >> 4) * 4);
			m->tso_segsz = (uint16_t)(segment < most ? segment : most);
			m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
		}
		tcp->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	}
}

/*
 * Transmit the first `count` of `allocated` mbufs from mtcpts_alloc, frame i
 * being lens[i] bytes; with `offload`, segments[i] > 0 makes frame i a large
 * TCP segment the port cuts (the mbuf came from the port's large pool: a
 * segment is built in one piece, so it is one mbuf, not a chain). Frees what
 * the port did not take and the unused rest. Returns the number sent.
 */
uint16_t mtcpts_tx(uint16_t port, uint16_t q, struct rte_mbuf **pkts, uint16_t count, uint16_t allocated,
		   const uint32_t *lens, const uint32_t *segments, int offload)
{
	for (uint16_t i = 0; i < count; i++) {
		struct rte_mbuf *m = pkts[i];
		m->data_len = (uint16_t)lens[i];
		m->pkt_len = lens[i];
		if (offload)
			offload_checksums(m, port, segments[i]);
	}
	uint16_t sent = 0;
	/* A full TX ring drains as the port sends: a few tries before giving up on the rest. */
	for (int tries = 0; tries < 4 && sent < count; tries++)
		sent += rte_eth_tx_burst(port, q, pkts + sent, count - sent);
	if (allocated > sent)
		rte_pktmbuf_free_bulk(pkts + sent, allocated - sent);
	return sent;
}
