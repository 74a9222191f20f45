/** Flag helpers that several commands use, so a repeatable flag behaves the same in each. */

/** commander's reducer for a repeatable flag: every occurrence is kept, in order. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];
