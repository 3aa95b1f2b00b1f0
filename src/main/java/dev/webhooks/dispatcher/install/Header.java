package dev.webhooks.dispatcher.install;

/** One custom header of a webhook, sent as given with every delivery to it. */
public record Header(String name, String value) {}
