import { openMemoryStore } from "../store/memory.ts";
import { storeConformance } from "./store_conformance.ts";

storeConformance("memory", () =>
  Promise.resolve({
    open: (clock) => Promise.resolve(openMemoryStore(clock)),
    persistent: false,
    cleanup: () => Promise.resolve(),
  }));
