// xterm.js colours for each app theme: xterm paints on its own, so CSS variables do not reach it.
import type { ITheme } from '@xterm/xterm';
import type { ThemeName } from '../state/store.ts';

const dark: ITheme = {
  background: '#1b1d23',
  foreground: '#d8dee9',
  cursor: '#e5e9f0',
  cursorAccent: '#1b1d23',
  selectionBackground: '#3b4a66',
  black: '#2e3440',
  red: '#f07178',
  green: '#a3d97a',
  yellow: '#ebcb8b',
  blue: '#82aaff',
  magenta: '#c792ea',
  cyan: '#89ddff',
  white: '#d8dee9',
  brightBlack: '#6b7386',
  brightRed: '#ff8b92',
  brightGreen: '#c3e88d',
  brightYellow: '#ffd98e',
  brightBlue: '#a0c0ff',
  brightMagenta: '#dcb0ff',
  brightCyan: '#a8ecff',
  brightWhite: '#ffffff',
};

const light: ITheme = {
  background: '#fbfbfc',
  foreground: '#24292f',
  cursor: '#24292f',
  cursorAccent: '#fbfbfc',
  selectionBackground: '#b6d3ff',
  black: '#24292f',
  red: '#c4202f',
  green: '#1a7f37',
  yellow: '#8a6100',
  blue: '#0550ae',
  magenta: '#8250df',
  cyan: '#0f7284',
  white: '#6e7781',
  brightBlack: '#57606a',
  brightRed: '#d1242f',
  brightGreen: '#2da44e',
  brightYellow: '#9a6700',
  brightBlue: '#0969da',
  brightMagenta: '#a475f9',
  brightCyan: '#1b7c83',
  brightWhite: '#8c959f',
};

export function xtermTheme(name: ThemeName): ITheme {
  return name === 'dark' ? dark : light;
}

/** Search match colours, per theme (the search addon draws them as decorations). */
export function searchDecorations(name: ThemeName) {
  return name === 'dark'
    ? {
        matchBackground: '#4b5a2a',
        activeMatchBackground: '#b58900',
        matchOverviewRuler: '#a3d97a',
        activeMatchColorOverviewRuler: '#ffd98e',
      }
    : {
        matchBackground: '#fff3a3',
        activeMatchBackground: '#ffb000',
        matchOverviewRuler: '#9a6700',
        activeMatchColorOverviewRuler: '#d1242f',
      };
}
