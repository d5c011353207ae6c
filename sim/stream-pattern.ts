/**
 * Test streams for the experiments: a pseudo-random byte pattern with a prime
 * period, stored twice so any window of up to STREAM_PERIOD bytes is one
 * subarray. A stream starting at offset k is byte i = STREAM_PATTERN[(k + i) %
 * STREAM_PERIOD]: a shifted, duplicated or foreign byte shows.
 */
export const STREAM_PERIOD = 65521;
export const STREAM_PATTERN = new Uint8Array(2 * STREAM_PERIOD);
{
  let x = 0x9e3779b9;
  for (let i = 0; i < STREAM_PERIOD; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    STREAM_PATTERN[i] = STREAM_PATTERN[i + STREAM_PERIOD] = x & 0xff;
  }
}
