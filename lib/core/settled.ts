/** Resolved promises shared by every fast path: awaiting them, or scheduling a job with them, costs no allocation of a promise. */
export const TRUE: Promise<true> = /*#__PURE__*/ Promise.resolve(true);
export const FALSE: Promise<boolean> = /*#__PURE__*/ Promise.resolve(false);
