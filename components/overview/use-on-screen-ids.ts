"use client";
import { useCallback, useEffect, useRef, useState } from "react";

/**
 * Which of many elements are on or near the screen: `track(id)` is the ref of the element for
 * `id`; `ids` are those within `marginPx` of the viewport (ascending, at most `max`), updated a
 * moment after scrolling settles so a fast scroll does not ask for every card it passes.
 */
export function useOnScreenIds(marginPx = 600, max = 200, settleMs = 120): { ids: number[]; track: (id: number) => (el: Element | null) => () => void } {
  const [ids, setIds] = useState<number[]>([]);
  const visible = useRef(new Set<number>());
  const elements = useRef(new Map<Element, number>());
  const observer = useRef<IntersectionObserver | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const refs = useRef(new Map<number, (el: Element | null) => () => void>());

  const publish = useCallback(() => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      const next = [...visible.current].sort((a, b) => a - b).slice(0, max);
      setIds((prev) => (prev.length === next.length && prev.every((x, i) => x === next[i]) ? prev : next));
    }, settleMs);
  }, [max, settleMs]);

  useEffect(() => {
    const io = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          const id = elements.current.get(e.target);
          if (id === undefined) continue;
          if (e.isIntersecting) visible.current.add(id);
          else visible.current.delete(id);
        }
        publish();
      },
      { rootMargin: `${marginPx}px 0px` },
    );
    observer.current = io;
    for (const el of elements.current.keys()) io.observe(el);
    return () => {
      io.disconnect();
      observer.current = null;
      if (timer.current) clearTimeout(timer.current);
      timer.current = null;
    };
  }, [marginPx, publish]);

  const track = useCallback(
    (id: number) => {
      let ref = refs.current.get(id);
      if (!ref) {
        ref = (el: Element | null) => {
          if (!el) return () => {};
          elements.current.set(el, id);
          observer.current?.observe(el);
          return () => {
            observer.current?.unobserve(el);
            elements.current.delete(el);
            if (visible.current.delete(id)) publish();
          };
        };
        refs.current.set(id, ref);
      }
      return ref;
    },
    [publish],
  );
  return { ids, track };
}
