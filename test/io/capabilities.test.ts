/**
 * Drivers describe themselves (PortCapabilities), and the impair and capture wrappers report what is true
 * through them: no TX checksum offload and no trusted link through either (a port would sign a frame
 * corrupted on its way out, and a capture must show final bytes with real checksums), and they make the port
 * they wrap stop filling checksums.
 */
import t from 'tap';
import { join } from 'node:path';
import { CaptureDriver } from '../../src/io/capture.ts';
import { ImpairedDriver } from '../../src/io/impair.ts';
import { attachShm, ShmWire } from '../../src/io/shm.ts';
import { SimWire } from '../../src/io/sim.ts';
import { DriverWrapper } from '../../src/io/wrapper.ts';
import type { PacketDriver, PortCapabilities } from '../../src/stack/port.ts';
import { tempDir } from '../helpers/tmp.ts';
import { MAC_A, MAC_B } from './fixtures/frames.ts';

/** A port that offloads everything, over a sim port; stopTxChecksumOffload turns its TX offload off and is counted. */
class OffloadingPort extends DriverWrapper {
  #caps: PortCapabilities;
  stops = 0;

  constructor(inner: PacketDriver) {
    super(inner, 'offloading');
    this.#caps = { ...inner.capabilities, txChecksumOffload: true, rxChecksumOffload: true, tsoMaxBytes: 65536, trustedLink: true };
  }

  override get capabilities(): PortCapabilities {
    return this.#caps;
  }

  override stopTxChecksumOffload(): void {
    this.stops++;
    this.#caps = { ...this.#caps, txChecksumOffload: false };
  }
}

const offloadingPort = (): OffloadingPort => new OffloadingPort(new SimWire({ seed: 1 }).attach(MAC_A, { queues: 2 }));

t.test('the software drivers declare their queues and largest frame; shm offloads checksums (its trusted wire)', async (t) => {
  const sim = new SimWire({ seed: 1, maxFrameBytes: 1600 }).attach(MAC_A, { queues: 3 });
  t.same(sim.capabilities, { maxFrameBytes: 1600, queues: 3, txChecksumOffload: false, rxChecksumOffload: false, tsoMaxBytes: 0, trustedLink: false });
  const shm = attachShm(ShmWire.create({ queues: [2, 1], slots: 64, slotSize: 4096 }).share(), 0, MAC_B);
  t.same(shm.capabilities, { maxFrameBytes: 4096, queues: 2, txChecksumOffload: true, rxChecksumOffload: true, tsoMaxBytes: 0, trustedLink: false });
  sim.stopTxChecksumOffload();
  t.equal(sim.capabilities.txChecksumOffload, false, 'stopping an offload a port lacks changes nothing');
});

t.test('through impair: no offload at all, a link that corrupts, and the port stops filling checksums', async (t) => {
  const port = offloadingPort();
  const impaired = new ImpairedDriver(port, { corrupt: 0.01 }, 7);
  t.equal(port.stops, 1, 'the wrapped port was told to stop');
  t.equal(port.capabilities.txChecksumOffload, false, 'the wrapped port no longer fills checksums');
  t.same(impaired.capabilities, { maxFrameBytes: 2048, queues: 2, txChecksumOffload: false, rxChecksumOffload: false, tsoMaxBytes: 0, trustedLink: false });
});

t.test('through capture: no TX offload and no trusted link (final bytes, real checksums in the file), RX verdicts pass through', async (t) => {
  const port = offloadingPort();
  const capture = new CaptureDriver(port, join(tempDir(t, 'mtcpts-caps-'), 'c.pcapng'));
  t.teardown(() => capture.close());
  t.equal(port.stops, 1, 'the wrapped port was told to stop');
  t.same(capture.capabilities, { maxFrameBytes: 2048, queues: 2, txChecksumOffload: false, rxChecksumOffload: true, tsoMaxBytes: 0, trustedLink: false });
});

t.test('capture around impair (the runtime\'s order) reports what is true through both', async (t) => {
  const port = offloadingPort();
  const capture = new CaptureDriver(new ImpairedDriver(port, {}, 7), join(tempDir(t, 'mtcpts-caps-'), 'c.pcapng'));
  t.teardown(() => capture.close());
  t.equal(port.capabilities.txChecksumOffload, false);
  t.same(capture.capabilities, { maxFrameBytes: 2048, queues: 2, txChecksumOffload: false, rxChecksumOffload: false, tsoMaxBytes: 0, trustedLink: false });
});
