#!/usr/bin/env python3
# Copied from the reference test bed (shared/testbed/bin/delay_proxy.py), unchanged otherwise.
"""Latency-injecting TCP proxy (the kernel here has no sch_netem). Each chunk is forwarded after DELAY ms,
preserving order, in both directions. usage: delay_proxy.py LISTEN_ADDR LISTEN_PORT TARGET_ADDR TARGET_PORT DELAY_MS"""
import asyncio, sys
la, lp, ta, tp, delay = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5]) / 1000
async def pump(reader, writer):
    loop = asyncio.get_running_loop(); q = asyncio.Queue()
    async def sender():
        while True:
            due, data = await q.get()
            if data is None: break
            await asyncio.sleep(max(0, due - loop.time()))
            writer.write(data); await writer.drain()
        writer.close()
    t = asyncio.create_task(sender())
    try:
        while data := await reader.read(65536):
            q.put_nowait((loop.time() + delay, data))
    except ConnectionError: pass
    q.put_nowait((loop.time() + delay, None)); await t
async def handle(cr, cw):
    try:
        await asyncio.sleep(delay)   # SYN-like one-way delay before connecting upstream
        ur, uw = await asyncio.open_connection(ta, tp)
    except OSError: cw.close(); return
    await asyncio.gather(pump(cr, uw), pump(ur, cw), return_exceptions=True)
async def main():
    srv = await asyncio.start_server(handle, la, lp)
    print(f"delay proxy {la}:{lp} -> {ta}:{tp} (+{delay*1000:.0f} ms each way)", flush=True)
    async with srv: await srv.serve_forever()
asyncio.run(main())
