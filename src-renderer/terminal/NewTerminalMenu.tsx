// The "+" menu: a terminal on the sandbox, on any node, or in any pod. A menu button in the ARIA
// sense: arrows move, Enter opens, Escape closes and gives the focus back to the button.
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { TerminalTarget } from '../../src-main/api/contract.ts';
import { useAppState, useLab } from '../state/context.ts';
import { titleOf } from './session.ts';

interface Item {
  target: TerminalTarget;
  label: string;
  hint: string;
}

export function NewTerminalMenu() {
  const lab = useLab();
  const [open, setOpen] = useState(false);
  const world = useAppState((s) => s.world);
  const pods = useAppState((s) => s.pods);
  const running = world.state === 'running';
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);

  const groups: { name: string; items: Item[] }[] = [
    {
      name: 'Sandbox',
      items: [{ target: { kind: 'sandbox' }, label: 'sandbox', hint: 'the world: underlay, every node namespace' }],
    },
    {
      name: 'Nodes',
      items: world.nodes.map((n) => ({
        target: { kind: 'node', node: n.name },
        label: n.name,
        hint: `pod CIDR ${n.podCidr}`,
      })),
    },
    {
      name: 'Pods',
      items: pods.map((p) => ({
        target: { kind: 'pod', pod: p.name },
        label: `pod/${p.name}`,
        hint: `${p.node} · ${p.ip || 'no IP'}`,
      })),
    },
  ];

  useEffect(() => {
    if (!open) return;
    menu.current?.querySelector<HTMLButtonElement>('[role="menuitem"]:not(:disabled)')?.focus();
    const away = (e: PointerEvent) => {
      if (!menu.current?.contains(e.target as Node) && !button.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', away, true);
    return () => document.removeEventListener('pointerdown', away, true);
  }, [open]);

  const choose = (target: TerminalTarget) => {
    setOpen(false);
    lab.openTerminal(target);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const items = [...(menu.current?.querySelectorAll<HTMLButtonElement>('[role="menuitem"]:not(:disabled)') ?? [])];
    const i = items.indexOf(document.activeElement as HTMLButtonElement);
    const go = (j: number) => items[(j + items.length) % items.length]?.focus();
    if (e.key === 'ArrowDown') go(i + 1);
    else if (e.key === 'ArrowUp') go(i - 1);
    else if (e.key === 'Home') go(0);
    else if (e.key === 'End') go(items.length - 1);
    else if (e.key === 'Escape' || e.key === 'Tab') {
      setOpen(false);
      button.current?.focus();
    } else return;
    e.preventDefault();
  };

  return (
    <div className="menu-anchor">
      <button
        ref={button}
        className="icon-button new-terminal"
        data-testid="new-terminal"
        aria-label="New terminal"
        title="New terminal"
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            setOpen(true);
          }
        }}
      >
        +
      </button>
      {open && (
        <div ref={menu} className="menu" role="menu" aria-label="Open a terminal on" onKeyDown={onKeyDown}>
          {!running && <div className="menu-note">Start a world to open terminals.</div>}
          {groups.map((g) =>
            g.items.length ? (
              <div key={g.name} role="group" aria-label={g.name}>
                <div className="menu-heading" aria-hidden="true">
                  {g.name}
                </div>
                {g.items.map((it) => (
                  <button
                    key={it.label}
                    role="menuitem"
                    className="menu-item"
                    data-testid={`terminal-menu-item-${titleOf(it.target)}`}
                    disabled={!running}
                    onClick={() => choose(it.target)}
                  >
                    <span className="menu-label">{it.label}</span>
                    <span className="menu-hint">{it.hint}</span>
                  </button>
                ))}
              </div>
            ) : null,
          )}
        </div>
      )}
    </div>
  );
}
