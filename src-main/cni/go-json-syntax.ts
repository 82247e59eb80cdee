// encoding/json's syntax check (its scanner, as Go 1.27 words it), for libcni's error texts on a broken config file:
// "invalid character '}' looking for beginning of object key string", "unexpected end of JSON input".

/** Go's quoteChar: the offending byte as the error shows it. */
function quoteChar(c: number): string {
  if (c === 0x27) return `'\\''`;
  if (c === 0x22) return `'"'`;
  const named: Record<number, string> = { 7: 'a', 8: 'b', 9: 't', 10: 'n', 11: 'v', 12: 'f', 13: 'r', 0x5c: '\\' };
  if (named[c]) return `'\\${named[c]}'`;
  if (c < 0x20 || c === 0x7f) return `'\\x${c.toString(16).padStart(2, '0')}'`;
  return `'${String.fromCharCode(c)}'`;
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** The SyntaxError text Go's json.Unmarshal gives for `text`, or undefined when it is valid JSON. */
export function goJsonSyntaxError(text: string): string | undefined {
  const b = Buffer.from(text);
  type Ctx = 'key' | 'value' | 'array';
  const stack: Ctx[] = [];
  let i = 0;
  const err = (c: number, context: string) => `invalid character ${quoteChar(c)} ${context}`;
  const END = 'unexpected end of JSON input';
  const skip = () => {
    while (i < b.length && isSpace(b[i]!)) i++;
  };

  // After a value: what the enclosing object or array allows next.
  const afterValue = (): string | 'value' | 'done' => {
    for (;;) {
      skip();
      if (stack.length === 0) return i < b.length ? err(b[i]!, 'after top-level value') : 'done';
      if (i >= b.length) return END;
      const c = b[i]!;
      const top = stack[stack.length - 1]!;
      if (top === 'key') {
        if (c !== 0x3a) return err(c, 'after object key');
        stack[stack.length - 1] = 'value';
        i++;
        return 'value';
      }
      if (top === 'value') {
        if (c === 0x2c) {
          i++;
          skip();
          if (i >= b.length) return END;
          if (b[i] !== 0x22) return err(b[i]!, 'looking for beginning of object key string');
          stack[stack.length - 1] = 'key';
          const s = string();
          if (s) return s;
          continue;
        }
        if (c === 0x7d) {
          stack.pop();
          i++;
          continue;
        }
        return err(c, 'after object key:value pair');
      }
      if (c === 0x2c) {
        i++;
        return 'value';
      }
      if (c === 0x5d) {
        stack.pop();
        i++;
        continue;
      }
      return err(c, 'after array element');
    }
  };

  // A string starting at b[i] === '"'; undefined when it ends well.
  const string = (): string | undefined => {
    i++;
    for (;;) {
      if (i >= b.length) return END;
      const c = b[i]!;
      if (c === 0x22) {
        i++;
        return undefined;
      }
      if (c < 0x20) return err(c, 'in string');
      if (c === 0x5c) {
        i++;
        if (i >= b.length) return END;
        const e = b[i]!;
        if (e === 0x75) {
          for (let k = 1; k <= 4; k++) {
            if (i + k >= b.length) return END;
            if (!isHex(b[i + k]!))
              return `invalid escape sequence \`\\u${b.subarray(i + 1, i + 5).toString()}\` in string`;
          }
          i += 5;
          continue;
        }
        if (!'bfnrt\\/"'.includes(String.fromCharCode(e)))
          return `invalid escape sequence \`\\${String.fromCharCode(e)}\` in string`;
      }
      i++;
    }
  };

  const literal = (word: string): string | undefined => {
    for (let k = 1; k < word.length; k++) {
      if (i + k >= b.length) return END;
      if (b[i + k] !== word.charCodeAt(k)) return err(b[i + k]!, `in literal ${word} (expecting '${word[k]}')`);
    }
    i += word.length;
    return undefined;
  };

  // A number; at the end of the input a complete number at top level is fine.
  const number = (): string | undefined => {
    const endOk = () => (stack.length === 0 ? undefined : END);
    if (b[i] === 0x2d) {
      i++;
      if (i >= b.length) return END;
      if (!isDigit(b[i]!)) return err(b[i]!, 'in numeric literal');
    }
    if (b[i] === 0x30) i++;
    else while (i < b.length && isDigit(b[i]!)) i++;
    if (i >= b.length) return endOk();
    if (b[i] === 0x2e) {
      i++;
      if (i >= b.length) return END;
      if (!isDigit(b[i]!)) return err(b[i]!, 'in numeric literal');
      while (i < b.length && isDigit(b[i]!)) i++;
      if (i >= b.length) return endOk();
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      i++;
      if (i < b.length && (b[i] === 0x2b || b[i] === 0x2d)) i++;
      if (i >= b.length) return END;
      if (!isDigit(b[i]!)) return err(b[i]!, 'in numeric literal');
      while (i < b.length && isDigit(b[i]!)) i++;
    }
    return undefined;
  };

  for (;;) {
    {
      skip();
      if (i >= b.length) return END;
      const c = b[i]!;
      {
        let e: string | undefined;
        if (c === 0x7b) {
          i++;
          skip();
          if (i >= b.length) return END;
          if (b[i] === 0x7d) {
            i++;
          } else {
            if (b[i] !== 0x22) return err(b[i]!, 'looking for beginning of object key string');
            stack.push('key');
            e = string();
          }
        } else if (c === 0x5b) {
          i++;
          stack.push('array');
          skip();
          if (i < b.length && b[i] === 0x5d) {
            stack.pop();
            i++;
          } else continue;
        } else if (c === 0x22) e = string();
        else if (c === 0x2d || isDigit(c)) e = number();
        else if (c === 0x74) e = literal('true');
        else if (c === 0x66) e = literal('false');
        else if (c === 0x6e) e = literal('null');
        else return err(c, 'looking for beginning of value');
        if (e) return e;
      }
    }
    const next = afterValue();
    if (next === 'done') return undefined;
    if (next !== 'value') return next;
  }
}
