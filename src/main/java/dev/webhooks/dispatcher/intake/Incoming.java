package dev.webhooks.dispatcher.intake;

import dev.webhooks.dispatcher.delivery.Source;

/** A polled record, already decoded on the polling thread so the event loop only routes and delivers. */
public record Incoming(Source source, Decoded decoded, byte[] value) {}
