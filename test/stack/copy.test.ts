/** copyBytes: every length around the unrolled loop's steps and the TypedArray#set threshold, at unaligned offsets. */
import t from 'tap';
import { copyBytes } from '../../src/stack/copy.ts';

t.test('copyBytes copies exactly len bytes at any offsets, by the loop and by TypedArray#set', (t) => {
  const src = new Uint8Array(512);
  for (let i = 0; i < src.length; i++) src[i] = (i * 7 + 3) & 0xff;
  let bad = 0;
  let cases = 0;
  for (const len of [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 127, 128, 129, 200]) {
    for (const srcOff of [0, 1, 3, 66]) {
      for (const dstOff of [0, 2, 5]) {
        const dst = new Uint8Array(512).fill(0xee);
        copyBytes(src, srcOff, dst, dstOff, len);
        cases++;
        for (let i = 0; i < dst.length; i++) {
          const want = i >= dstOff && i < dstOff + len ? src[srcOff + i - dstOff] : 0xee;
          if (dst[i] !== want) {
            bad++;
            break;
          }
        }
      }
    }
  }
  t.equal(bad, 0, `${cases} copies: the range copied, nothing outside it touched`);
  t.end();
});
