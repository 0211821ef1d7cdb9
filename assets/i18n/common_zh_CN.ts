<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ConnectionBadge</name>
    <message><source>● Connected</source><translation>● 已连接</translation></message>
    <message><source>● Re-syncing… (data may be stale)</source><translation>● 正在重新同步…（数据可能已过期）</translation></message>
    <message><source>● Connecting… data stale since %1</source><translation>● 正在连接… 数据自 %1 起已过期</translation></message>
    <message><source>● Connection lost since %1 (%2 s) — data is stale</source><translation>● 连接已断开，自 %1 起（%2 秒）— 数据已过期</translation></message>
    <message><source>● Stopped</source><translation>● 已停止</translation></message>
    <message><source>gaps detected: %1, re-syncs: %2</source><translation>检测到缺口：%1，重新同步：%2</translation></message>
</context>
</TS>
