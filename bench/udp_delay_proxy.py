#!/usr/bin/env python3
"""Latency-injecting UDP DNS forwarder, the UDP twin of delay_proxy.py (the kernel here has no
sch_netem). Each datagram waits DELAY ms before it is forwarded, in both directions, so one DNS
round trip gains 2 x DELAY. Every query gets its own upstream socket (answers cannot be mixed up).
usage: udp_delay_proxy.py LISTEN_ADDR LISTEN_PORT TARGET_ADDR TARGET_PORT DELAY_MS"""
import asyncio, socket, sys
la, lp, ta, tp, delay = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5]) / 1000

class Upstream(asyncio.DatagramProtocol):
    def __init__(self, fut): self.fut = fut
    def datagram_received(self, data, addr):
        if not self.fut.done(): self.fut.set_result(data)

class Front(asyncio.DatagramProtocol):
    def connection_made(self, transport): self.transport = transport
    def datagram_received(self, data, addr): asyncio.ensure_future(self.relay(data, addr))
    async def relay(self, data, client):
        loop = asyncio.get_running_loop()
        await asyncio.sleep(delay)
        fut = loop.create_future()
        up, _ = await loop.create_datagram_endpoint(lambda: Upstream(fut), remote_addr=(ta, tp))
        try:
            up.sendto(data)
            answer = await asyncio.wait_for(fut, 10)
        except asyncio.TimeoutError:
            return
        finally:
            up.close()
        await asyncio.sleep(delay)
        self.transport.sendto(answer, client)

async def main():
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(Front, local_addr=(la, lp), family=socket.AF_INET)
    print(f"udp delay proxy {la}:{lp} -> {ta}:{tp} (+{delay*1000:.0f} ms each way)", flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
