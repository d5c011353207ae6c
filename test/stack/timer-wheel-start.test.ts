/** Regression: the wheel's time before its first advance. */
import t from 'tap';

t.test('a deadline scheduled before the first advance does not make later, earlier deadlines fire early', async (t) => {
  const { TimerWheel } = await import('../../src/stack/timer-wheel.ts');
  const w = new TimerWheel(4, 1, 64);
  w.schedule(0, 1_000_500); // far ahead of the first advance
  const fired: number[] = [];
  w.advance(1_000_000, (id) => fired.push(id));
  w.schedule(1, 1_000_010);
  w.advance(1_000_005, (id) => fired.push(id));
  t.same(fired, [], 'nothing due yet');
  w.advance(1_000_010, (id) => fired.push(id));
  t.same(fired, [1]);
  w.advance(1_000_500, (id) => fired.push(id));
  t.same(fired, [1, 0]);
});
