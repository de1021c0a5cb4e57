/**
 * The data key that marks an AppError as a chat-template overrun (its value: 'steps', 'size' or
 * 'time'). The Worker that saw one retires after answering; the admission check does not keep a
 * verdict made by the clock. A module of its own so the main thread can read it without loading
 * the template interpreter.
 */
export const TEMPLATE_OVERRUN = 'templateOverrun';
