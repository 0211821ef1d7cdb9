<?xml version='1.0' encoding='utf-8'?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>BrokerText</name>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="37" />
        <source>unknown agent {agent}</source>
        <extracomment>parameters whose values are floor words (``words()``), translated before they fill a sentence</extracomment>
        <translation>未知客服 {agent}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="38" />
        <source>unknown group {group}</source>
        <translation>未知小组 {group}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="39" />
        <source>unknown shop {shop}</source>
        <translation>未知店铺 {shop}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="40" />
        <source>no open inquiry {inquiry}</source>
        <translation>没有未结束的咨询 {inquiry}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="41" />
        <source>inquiry {inquiry} is already {state}</source>
        <translation>咨询 {inquiry} 已{state}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="42" />
        <source>inquiry {inquiry} already exists</source>
        <translation>咨询 {inquiry} 已存在</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="43" />
        <source>inquiry {inquiry} is not held by {agent}</source>
        <translation>咨询 {inquiry} 不在 {agent} 手中</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="44" />
        <source>inquiry {inquiry} is already in the pool</source>
        <translation>咨询 {inquiry} 已在池中</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="45" />
        <source>{agent} already holds {inquiry}</source>
        <translation>{agent} 已持有 {inquiry}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="46" />
        <source>inquiry {inquiry} is already in the {skill} pool</source>
        <translation>咨询 {inquiry} 已在 {skill} 池中</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" />
        <source>inquiry {inquiry} is not with robot {robot}</source>
        <translation>咨询 {inquiry} 不在机器人 {robot} 处</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" />
        <source>robot {robot} has answered inquiry {inquiry} already; it awaits the customer</source>
        <translation>机器人 {robot} 已回答咨询 {inquiry}，正在等待客户回复</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" />
        <source>no transcript of inquiry {inquiry}</source>
        <translation>咨询 {inquiry} 没有对话记录</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" />
        <source>{field} must not be empty</source>
        <translation>{field} 不能为空</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" />
        <source>inquiry {inquiry} is with the robot first line, not in the pool</source>
        <translation>咨询 {inquiry} 正由机器人首轮接待，尚未进入池中</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="47" />
        <source>agent {agent} does not serve shop {shop}</source>
        <translation>客服 {agent} 不服务店铺 {shop}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="48" />
        <source>agent {agent} lacks skill {skill}</source>
        <translation>客服 {agent} 不具备技能 {skill}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="49" />
        <source>agent {agent} does not handle language {language}</source>
        <translation>客服 {agent} 不会语言 {language}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="50" />
        <source>agent {agent} does not handle channel {channel}</source>
        <translation>客服 {agent} 不接待渠道 {channel}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="51" />
        <source>taken by {winner}</source>
        <translation>已被 {winner} 抢到</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="52" />
        <source>taken by {winner} and already {state}</source>
        <translation>已被 {winner} 抢到，且已{state}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="53" />
        <source>shop {shop} assigns its inquiries; grabbing is off</source>
        <translation>店铺 {shop} 采用派单模式，抢单已关闭</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="54" />
        <source>tier {tier} sees new inquiries after {delay_s} s; visible in {in_s} s</source>
        <translation>{tier}等级在 {delay_s} 秒后才能看到新咨询；还需 {in_s} 秒</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="55" />
        <source>grab id {grab_id} was already used for inquiry {inquiry}; use a new grab id for each attempt</source>
        <translation>抢单编号 {grab_id} 已用于咨询 {inquiry}；每次抢单请使用新编号</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="57" />
        <source>more than {rate} grabs per second from {agent}; slow down</source>
        <translation>{agent} 每秒抢单超过 {rate} 次，请放慢</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="58" />
        <source>agent {agent} is {status}, not online</source>
        <translation>客服 {agent} 处于{status}状态，不在线</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="59" />
        <source>on a forced break after {hours} h of continuous service, until {until}</source>
        <translation>连续服务 {hours} 小时后强制休息，至 {until}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="60" />
        <source>on a forced break until {until}</source>
        <translation>强制休息中，至 {until}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="61" />
        <source>holds {held} of a concurrent cap of {cap}</source>
        <translation>已持有 {held} 个，并发上限为 {cap}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="62" />
        <source>took {taken} today, the daily quota is {quota}</source>
        <translation>今日已接 {taken} 个，每日上限为 {quota}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="63" />
        <source>{hours} h of continuous service reached; a break is due</source>
        <translation>已连续服务 {hours} 小时，应当休息</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="64" />
        <source>quality must be 0 to 100</source>
        <translation>质量分必须在 0 到 100 之间</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="65" />
        <source>satisfaction must be 1 to 5</source>
        <translation>满意度必须在 1 到 5 之间</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="66" />
        <source>{field} must be between {low} and {high}, not {value}</source>
        <translation>{field} 必须在 {low} 到 {high} 之间，而不是 {value}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="67" />
        <source>hybrid_after_s must be within (0, {max_s}]</source>
        <translation>混合模式延迟必须在 (0, {max_s}] 秒之内</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="68" />
        <source>arrived_at {value} is not a time within the last {days} days</source>
        <translation>到达时间 {value} 不在最近 {days} 天之内</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="69" />
        <source>name exactly one of agent or group</source>
        <translation>请指定客服或小组中的一个</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="70" />
        <source>until must be after since</source>
        <translation>结束时间必须晚于开始时间</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="71" />
        <source>{field} of shop {shop} must be within (0, {max_s}] seconds, not {value}</source>
        <translation>店铺 {shop} 的 {field} 必须在 (0, {max_s}] 秒之内，而不是 {value}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="72" />
        <source>{field} of shop {shop} must be within (0, 100]</source>
        <translation>店铺 {shop} 的 {field} 必须在 (0, 100] 之内</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="73" />
        <source>a transfer note is at most {max_chars} characters</source>
        <translation>转接备注最多 {max_chars} 个字符</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="74" />
        <source>role {role} may not send {command}</source>
        <translation>角色 {role} 无权发送 {command}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="75" />
        <source>{agent} is not an enrolled agent</source>
        <translation>{agent} 不是已登记的客服</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="76" />
        <source>an agent may set only its own status</source>
        <translation>客服只能设置自己的状态</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="77" />
        <source>this key has been revoked</source>
        <translation>此密钥已被吊销</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="78" />
        <source>this key is enrolled as {key_role} {key_who}, not {role} {who}</source>
        <translation>此密钥登记为 {key_role} {key_who}，而不是 {role} {who}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="79" />
        <source>this broker keeps no grab history</source>
        <translation>此调度服务不保存抢单记录</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="80" />
        <source>this broker keeps no inquiry history</source>
        <translation>此调度服务不保存咨询历史</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="81" />
        <source>this broker does not manage rosters</source>
        <translation>此调度服务不管理排班</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="82" />
        <source>this broker keeps no statistics</source>
        <translation>此调度服务不保存统计</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="83" />
        <source>no grabs recorded for inquiry {inquiry}</source>
        <translation>咨询 {inquiry} 没有抢单记录</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="84" />
        <source>no alert {alert}</source>
        <translation>没有告警 {alert}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="85" />
        <source>roster refused, nothing changed: {problems}</source>
        <translation>排班被拒绝，未做任何更改：{problems}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="86" />
        <location filename="../../supervisor/common/broker_text.py" line="130" />
        <source>the broker failed on this command; it is logged</source>
        <translation>调度服务处理此命令时出错，已记录日志</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="87" />
        <source>command of {size} bytes exceeds the limit of {limit}</source>
        <translation>命令大小 {size} 字节，超过上限 {limit}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="88" />
        <source>protocol version {version} is not supported; this broker speaks {supported}</source>
        <translation>不支持协议版本 {version}；此调度服务使用版本 {supported}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="89" />
        <source>unknown message type {type}</source>
        <translation>未知消息类型 {type}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="90" />
        <source>invalid {command}: {problem}</source>
        <translation>无效的 {command}：{problem}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="91" />
        <source>bad envelope: {problem}</source>
        <translation>消息信封无效：{problem}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="92" />
        <source>not a valid MessagePack map: {problem}</source>
        <translation>不是有效的 MessagePack 映射：{problem}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="98" />
        <source>{inquiry}: first response SLA at risk (still in the pool)</source>
        <translation>{inquiry}：首次响应 SLA 有风险（仍在池中）</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="99" />
        <source>{inquiry}: first response SLA at risk (held by {agent})</source>
        <translation>{inquiry}：首次响应 SLA 有风险（由 {agent} 持有）</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="100" />
        <source>{inquiry}: resolution SLA at risk (still in the pool)</source>
        <translation>{inquiry}：解决 SLA 有风险（仍在池中）</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="101" />
        <source>{inquiry}: resolution SLA at risk (held by {agent})</source>
        <translation>{inquiry}：解决 SLA 有风险（由 {agent} 持有）</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="102" />
        <source>{inquiry}: first response SLA breached (still in the pool)</source>
        <translation>{inquiry}：首次响应 SLA 已超时（仍在池中）</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="103" />
        <source>{inquiry}: first response SLA breached (held by {agent})</source>
        <translation>{inquiry}：首次响应 SLA 已超时（由 {agent} 持有）</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="104" />
        <source>{inquiry}: resolution SLA breached (still in the pool)</source>
        <translation>{inquiry}：解决 SLA 已超时（仍在池中）</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="105" />
        <source>{inquiry}: resolution SLA breached (held by {agent})</source>
        <translation>{inquiry}：解决 SLA 已超时（由 {agent} 持有）</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="106" />
        <source>{agent} took {inquiry} and stayed silent; it is back in the pool</source>
        <translation>{agent} 抢到 {inquiry} 后未回复，已退回池中</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="107" />
        <source>uneven grabbing in {group}: Gini {gini} over {threshold}</source>
        <translation>{group} 抢单不均：基尼系数 {gini} 超过 {threshold}</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="108" />
        <source>{skill} at {hour}: {rostered} rostered, {required} required</source>
        <translation>{skill} {hour}：排班 {rostered} 人，需要 {required} 人</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="109" />
        <source>{queued} queued {skill} inquiries ({language}, {channel}) and no online agent may take them</source>
        <translation>{skill} 有 {queued} 个咨询排队（{language}，{channel}），没有在线客服可以接待</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="116" />
        <location filename="../../supervisor/common/broker_text.py" line="173" />
        <source>not found</source>
        <translation>未找到</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="117" />
        <source>someone else has it</source>
        <translation>已被他人抢到</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="118" />
        <source>not eligible</source>
        <translation>不符合接待条件</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="119" />
        <source>the concurrent cap is reached</source>
        <translation>已达并发上限</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="120" />
        <source>the daily quota is used up</source>
        <translation>今日抢单额度已用完</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="121" />
        <source>the continuous-service limit is reached; a break is due</source>
        <translation>已达连续服务上限，应当休息</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="122" />
        <source>not allowed</source>
        <translation>不允许</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="123" />
        <source>the request is not valid</source>
        <translation>请求无效</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="124" />
        <source>this broker speaks another protocol version</source>
        <translation>此调度服务使用其他协议版本</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="125" />
        <source>the request is too large</source>
        <translation>请求过大</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="126" />
        <source>not possible in the current state</source>
        <translation>当前状态下无法执行</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="127" />
        <source>too many requests; slow down</source>
        <translation>请求过多，请放慢</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="128" />
        <source>too many requests waiting for an answer</source>
        <translation>等待答复的请求过多</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="129" />
        <source>the key does not match this identity</source>
        <translation>密钥与此身份不符</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="131" />
        <source>this broker is a standby; the active one answers</source>
        <translation>此调度服务为备用节点，请连接主节点</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="137" />
        <source>online</source>
        <translation>在线</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="137" />
        <source>away</source>
        <translation>离开</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="137" />
        <source>break</source>
        <translation>休息</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="138" />
        <source>offline</source>
        <translation>离线</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="138" />
        <source>resolved</source>
        <translation>解决</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="138" />
        <source>abandoned</source>
        <translation>放弃</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="139" />
        <source>queued</source>
        <translation>排队</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="139" />
        <source>held</source>
        <translation>处理中</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" />
        <source>with the robot</source>
        <translation>机器人接待中</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="139" />
        <source>gold</source>
        <translation>金牌</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="140" />
        <source>silver</source>
        <translation>银牌</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="140" />
        <source>bronze</source>
        <translation>铜牌</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="140" />
        <source>probation</source>
        <translation>试用</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="141" />
        <source>won</source>
        <translation>抢到</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="141" />
        <source>lost</source>
        <translation>没抢到</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="141" />
        <source>refused</source>
        <translation>被拒绝</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="142" />
        <source>grab</source>
        <translation>抢单</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="142" />
        <source>push</source>
        <translation>派单</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/broker_text.py" line="142" />
        <source>hybrid</source>
        <translation>混合</translation>
    </message>
</context>
<context>
    <name>ConnectionBadge</name>
    <message>
        <location filename="../../supervisor/common/widgets.py" line="54" />
        <source>● Connected</source>
        <extracomment>state -&gt; (colour, sentence); sentences go through tr() in ConnectionBadge</extracomment>
        <translation>● 已连接</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/widgets.py" line="56" />
        <source>● Re-syncing… (data may be stale)</source>
        <translation>● 正在重新同步…（数据可能已过期）</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/widgets.py" line="58" />
        <source>● Connecting… data stale since %1</source>
        <translation>● 正在连接… 数据自 %1 起已过期</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/widgets.py" line="60" />
        <source>● Connection lost since %1 (%2 s) — data is stale</source>
        <translation>● 连接已断开，自 %1 起（%2 秒）— 数据已过期</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/widgets.py" line="63" />
        <source>● Stopped</source>
        <translation>● 已停止</translation>
    </message>
    <message>
        <location filename="../../supervisor/common/widgets.py" line="67" />
        <source>gaps detected: %1, re-syncs: %2</source>
        <translation>检测到缺口：%1，重新同步：%2</translation>
    </message>
</context>
</TS>