package dev.webhooks.dispatcher; public final class Main { public static void main(String[] a){} }
