// A benchmark's command line: the value after a flag (`--rounds 5`), undefined when the flag is absent.
export const argOf = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
