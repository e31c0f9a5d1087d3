/** A header map with the get/set/append an adapter's response offers, for `applySessionHeaders`; names are case-insensitive as in HTTP. */
export function headerTarget(initial: Record<string, string | string[]> = {}) {
  const headers = new Map<string, string | string[]>(Object.entries(initial).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    headers,
    get: (name: string) => headers.get(name.toLowerCase()),
    set: (name: string, value: string) => void headers.set(name.toLowerCase(), value),
    append: (name: string, value: string) => {
      const current = headers.get(name.toLowerCase());
      headers.set(name.toLowerCase(), current === undefined ? [value] : [...[current].flat(), value]);
    },
  };
}
