// Finds where JSON text breaks and why, in words a person can act on. JSON.parse's messages differ
// across Node versions and some carry no position, so the editor and the linter use this instead.

export interface JsonSyntaxProblem {
  /** Offset in the text of the offending character. */
  pos: number;
  reason: string;
}

/** Thrown inside the scanner to unwind to locateJsonError with where and why. */
class JsonSyntaxFailure extends Error {
  constructor(readonly problem: JsonSyntaxProblem) {
    super(problem.reason);
  }
}

export function locateJsonError(text: string): JsonSyntaxProblem | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (reason: string, pos = i): never => {
    throw new JsonSyntaxFailure({ pos, reason });
  };
  const show = (c: string | undefined) => (c === undefined ? 'end of input' : c === '"' ? `'"'` : JSON.stringify(c));
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return;
      }
    }
    if (c === "'") fail('strings must use double quotes (")');
    if (c === undefined) fail('unexpected end of input: a value is missing');
    fail(`unexpected ${show(c)}: expected a value (object, array, string, number, true, false or null)`);
  };
  const string = (): void => {
    const start = i++;
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\n') fail('unterminated string: a string cannot span lines', start);
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('invalid \\u escape: it needs four hex digits');
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) fail(`invalid escape "\\${e ?? ''}" in a string`);
        i += 2;
        continue;
      }
      if (c < ' ') fail('control character in a string: escape it');
      i++;
    }
    fail('unterminated string', start);
  };
  const number = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m || !m[0] || m[0] === '-') fail('invalid number');
    i += m![0].length;
  };
  const array = (): void => {
    i++;
    ws();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (;;) {
      value();
      ws();
      if (text[i] === ',') {
        const comma = i++;
        ws();
        if (text[i] === ']') fail('trailing comma: JSON allows no comma after the last element', comma);
        continue;
      }
      if (text[i] === ']') {
        i++;
        return;
      }
      fail(
        text[i] === undefined
          ? 'unexpected end of input: "]" is missing'
          : `expected "," or "]" after an array element, found ${show(text[i])}`,
      );
    }
  };
  const object = (): void => {
    i++;
    ws();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      ws();
      if (text[i] !== '"')
        fail(
          text[i] === undefined
            ? 'unexpected end of input: "}" is missing'
            : `expected a property name in double quotes, found ${show(text[i])}`,
        );
      string();
      ws();
      if (text[i] !== ':') fail(`expected ":" after the property name, found ${show(text[i])}`);
      i++;
      value();
      ws();
      if (text[i] === ',') {
        const comma = i++;
        ws();
        if (text[i] === '}') fail('trailing comma: JSON allows no comma after the last member', comma);
        continue;
      }
      if (text[i] === '}') {
        i++;
        return;
      }
      fail(
        text[i] === undefined
          ? 'unexpected end of input: "}" is missing'
          : `expected "," or "}" after a property value, found ${show(text[i])}`,
      );
    }
  };
  try {
    ws();
    if (i === text.length) return { pos: 0, reason: 'the file is empty' };
    value();
    ws();
    if (i < text.length) fail(`unexpected ${show(text[i])} after the end of the JSON value`);
    return undefined;
  } catch (e) {
    if (e instanceof JsonSyntaxFailure) return e.problem;
    throw e;
  }
}
