package dev.webhooks.dispatcher.install;

/**
 * One thing wrong with a request body: where ({@code capabilities.webhooks['ms.MessagingEventNotification.ContentEvent'].endpoint},
 * or {@code $} for the body itself) and what, in words a person understands.
 */
public record Violation(String path, String message) {}
