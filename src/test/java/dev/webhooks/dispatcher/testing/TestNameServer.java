package dev.webhooks.dispatcher.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.vertx.core.dns.AddressResolverOptions;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A name server on loopback UDP for tests, speaking real DNS (Netty's codec): it answers A queries for the names it
 * is given, NXDOMAIN for every other name, and nothing at all once {@link #goSilent() silent}, as a dead server does.
 */
public final class TestNameServer implements AutoCloseable {
  private final Map<String, InetAddress> answers;
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel channel;
  private final AtomicInteger queries = new AtomicInteger();
  private volatile boolean silent;

  private TestNameServer(Map<String, InetAddress> answers) throws InterruptedException {
    this.answers = Map.copyOf(answers);
    this.channel = new Bootstrap().group(group).channel(NioDatagramChannel.class)
        .handler(new ChannelInitializer<DatagramChannel>() {
          @Override
          protected void initChannel(DatagramChannel ch) {
            ch.pipeline().addLast(new DatagramDnsQueryDecoder(), new DatagramDnsResponseEncoder(), new Answering());
          }
        })
        .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
  }

  /** A server that knows {@code answers} (host name to its IPv4 address). */
  public static TestNameServer answering(Map<String, InetAddress> answers) throws InterruptedException {
    return new TestNameServer(answers);
  }

  /** From now on every query goes unanswered. */
  public void goSilent() {
    silent = true;
  }

  /** Queries received so far, answered or not. */
  public int queries() {
    return queries.get();
  }

  /** {@code options}, sending a Vert.x instance's lookups here alone (no search domains). */
  public AddressResolverOptions pointing(AddressResolverOptions options) {
    InetSocketAddress local = (InetSocketAddress) channel.localAddress();
    return options.setServers(List.of(local.getAddress().getHostAddress() + ":" + local.getPort()))
        .setSearchDomains(List.of());
  }

  @Override
  public void close() throws InterruptedException {
    channel.close().sync();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  private final class Answering extends SimpleChannelInboundHandler<DatagramDnsQuery> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) {
      queries.incrementAndGet();
      if (silent) {
        return;
      }
      DnsQuestion question = query.recordAt(DnsSection.QUESTION);
      String name = question.name().endsWith(".") ? question.name().substring(0, question.name().length() - 1)
          : question.name();
      DatagramDnsResponse response = new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
      response.setRecursionAvailable(true);
      response.addRecord(DnsSection.QUESTION, question);
      InetAddress known = answers.get(name);
      if (known == null) {
        response.setCode(DnsResponseCode.NXDOMAIN);
      } else if (question.type() == DnsRecordType.A) {
        response.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(
            question.name(), DnsRecordType.A, 60, Unpooled.wrappedBuffer(known.getAddress())));
      } // a known name has no other record: an empty answer
      ctx.writeAndFlush(response);
    }
  }
}
