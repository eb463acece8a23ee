/* STUB: not written yet */
