/**
 * Copy bytes between two arenas. JavaScript has no range copy between two
 * ArrayBuffers without a view, so a large copy makes one transient subarray
 * view for TypedArray#set (tens of ns for a full segment); a small one uses a
 * plain loop and allocates nothing, which keeps small-message traffic free of
 * per-packet objects.
 */
const LOOP_MAX = 128;

export function copyBytes(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, len: number): void {
  if (len <= LOOP_MAX) {
    for (let i = 0; i < len; i++) dst[dstOff + i] = src[srcOff + i];
    return;
  }
  dst.set(src.subarray(srcOff, srcOff + len), dstOff);
}
