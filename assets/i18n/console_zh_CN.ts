<?xml version='1.0' encoding='utf-8'?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ActiveBrokerLabel</name>
    <message>
        <location filename="../../supervisor/console/active_broker.py" line="30" />
        <source>Broker %1 · shard %2</source>
        <translation>调度服务 %1 · 分片 %2</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/active_broker.py" line="32" />
        <source> · active since %1</source>
        <translation> · 自 %1 起为主</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/active_broker.py" line="35" />
        <source>The active broker of this shard; a standby takes over if it stops.</source>
        <translation>本分片当前的主调度服务；它停止时由备用服务接管。</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/active_broker.py" line="37" />
        <source>This console moved to another broker %1 time(s), last at %2.</source>
        <translation>本控制台已切换到其他调度服务 %1 次，最近一次在 %2。</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/active_broker.py" line="45" />
        <source>%1 ● %2</source>
        <translation>%1 ● %2</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/active_broker.py" line="49" />
        <source>%1: %2, broker %3, %4 open inquiries, %5 agents online</source>
        <translation>%1：%2，调度服务 %3，%4 个未结咨询，%5 名客服在线</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/active_broker.py" line="53" />
        <source>, active since %1</source>
        <translation>，自 %1 起为主</translation>
    </message>
</context>
<context>
    <name>AgentModel</name>
    <message>
        <location filename="../../supervisor/console/models.py" line="80" />
        <source>Agent</source>
        <extracomment>drag-and-drop payload: a JSON list of inquiry ids use against a limit, for the bar delegate a quota change awaits the broker's answer editable agent columns -&gt; the quota they edit (agent id, quota field, requested value)</extracomment>
        <translation>客服</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="80" />
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="80" />
        <source>Group</source>
        <translation>组</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="80" />
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="80" />
        <source>Tier</source>
        <translation>等级</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="81" />
        <source>Held / cap</source>
        <translation>持有 / 上限</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="81" />
        <source>Grabs today / quota</source>
        <translation>今日抢单 / 限额</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="81" />
        <source>Service / limit</source>
        <translation>连续服务 / 上限</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="82" />
        <source>SLA met</source>
        <translation>SLA 达成</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="82" />
        <source>Skills</source>
        <translation>技能</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="106" />
        <source>until %1</source>
        <translation>至 %1</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="165" />
        <source>Forced break after %1 h of continuous service, until %2</source>
        <translation>连续服务 %1 小时后强制休息，至 %2</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="167" />
        <source>On a break</source>
        <translation>休息中</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="169" />
        <source>Holds %1 inquiries; concurrent cap %2. Double-click or F2 to change the cap.</source>
        <translation>持有 %1 个咨询；同时接待上限 %2。双击或按 F2 修改上限。</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="172" />
        <source>%1 grabs today; daily quota %2. Double-click or F2 to change the quota.</source>
        <translation>今日抢单 %1 次；每日限额 %2。双击或按 F2 修改限额。</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="175" />
        <source>Continuous service; a break of %1 min is forced after %2 h. Double-click or F2 to change the limit.</source>
        <translation>连续服务时长；满 %2 小时后强制休息 %1 分钟。双击或按 F2 修改上限。</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="179" />
        <source>Share of the inquiries this agent resolved, while this console watched, without an SLA breach</source>
        <translation>本控制台观察期间，该客服解决且未违反 SLA 的咨询所占比例</translation>
    </message>
</context>
<context>
    <name>AgentPanel</name>
    <message>
        <location filename="../../supervisor/console/panels.py" line="81" />
        <source>Filter agents: id, name, group, status, tier, skill…</source>
        <extracomment>typing pauses this long before a filter is applied starting column widths (px); users resize, the window remembers the layout open the quota dialog for this agent ("" for none chosen)</extracomment>
        <translation>筛选客服：编号、姓名、组、状态、等级、技能…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/panels.py" line="82" />
        <source>Quotas…</source>
        <translation>接单限制…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/panels.py" line="83" />
        <source>Change the quotas of an agent or a whole group</source>
        <translation>修改某位客服或整个组的接单限制</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/panels.py" line="98" />
        <source>%1 of %2 agents</source>
        <translation>%1 / %2 位客服</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/panels.py" line="128" />
        <source>Likely refused: %1</source>
        <translation>可能被拒绝：%1</translation>
    </message>
</context>
<context>
    <name>AgentStateDialog</name>
    <message>
        <location filename="../../supervisor/console/control_dialogs.py" line="163" />
        <source>Agent status and quality</source>
        <translation>客服状态与质量分</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/control_dialogs.py" line="164" />
        <source>Agent:</source>
        <translation>客服：</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/control_dialogs.py" line="165" />
        <source>Status:</source>
        <translation>状态：</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/control_dialogs.py" line="166" />
        <source>Quality score:</source>
        <translation>质量分：</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/control_dialogs.py" line="167" />
        <source>Reason (kept in the audit log):</source>
        <translation>原因（记入审计日志）：</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/control_dialogs.py" line="168" />
        <source>Apply</source>
        <translation>应用</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/control_dialogs.py" line="179" />
        <source>Tier now: %1</source>
        <translation>当前等级：%1</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/control_dialogs.py" line="185" />
        <source>Choose an agent first</source>
        <translation>请先选择客服</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/control_dialogs.py" line="195" />
        <source>Nothing changed</source>
        <translation>没有改动</translation>
    </message>
</context>
<context>
    <name>AgentTableView</name>
    <message>
        <location filename="../../supervisor/console/tables.py" line="100" />
        <source>Drop to reassign %1 to %2</source>
        <extracomment>(inquiry ids, agent id) the explanation while a drag hovers over an agent ("" when the drag leaves)</extracomment>
        <translation>松开以将 %1 改派给 %2</translation>
    </message>
</context>
<context>
    <name>AlertBar</name>
    <message>
        <location filename="../../supervisor/console/alert_bar.py" line="148" />
        <source>All alerts</source>
        <extracomment>players tried in order; each takes a WAV path as its one argument the chime: two short tones (Hz) of this length (s), at this sample rate what the severity filter offers, least to most severe the ids of the alerts to acknowledge (the panel's selection) fn() -&gt; the selected alerts' ids</extracomment>
        <translation>全部告警</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/alert_bar.py" line="148" />
        <source>Warnings and critical</source>
        <translation>警告及严重</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/alert_bar.py" line="148" />
        <source>Critical only</source>
        <translation>仅严重</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/alert_bar.py" line="151" />
        <source>Not acknowledged</source>
        <translation>未确认</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/alert_bar.py" line="152" />
        <source>Filter alerts</source>
        <translation>筛选告警</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/alert_bar.py" line="153" />
        <source>Acknowledge</source>
        <translation>确认</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/alert_bar.py" line="154" />
        <source>Take the selected alerts in hand; the broker records who and when</source>
        <translation>接手所选告警；调度服务记录确认人和时间</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/alert_bar.py" line="155" />
        <source>Sound for critical</source>
        <translation>严重告警提示音</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/alert_bar.py" line="167" />
        <source>Select an alert nobody has acknowledged yet</source>
        <translation>请选择尚未确认的告警</translation>
    </message>
</context>
<context>
    <name>AlertModel</name>
    <message>
        <location filename="../../supervisor/console/models.py" line="283" />
        <source>Time</source>
        <extracomment>the text last: it stretches to the panel's width</extracomment>
        <translation>时间</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="283" />
        <source>Severity</source>
        <translation>级别</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="283" />
        <source>Alert</source>
        <translation>告警</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="284" />
        <source>What happened</source>
        <translation>内容</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="284" />
        <source>Acked</source>
        <translation>已确认</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="283" />
        <source>Link</source>
        <translation>关联</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="306" />
        <source>Double-click to show the inquiry or agent</source>
        <translation>双击显示相关咨询或客服</translation>
    </message>
</context>
<context>
    <name>AuditModel</name>
    <message>
        <location filename="../../supervisor/console/models.py" line="321" />
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="321" />
        <source>Who</source>
        <translation>操作人</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="321" />
        <source>Role</source>
        <translation>角色</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="321" />
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="321" />
        <source>Subject</source>
        <translation>对象</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="322" />
        <source>Result</source>
        <translation>结果</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="322" />
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="329" />
        <source>done</source>
        <translation>已执行</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="329" />
        <source>refused</source>
        <translation>被拒绝</translation>
    </message>
</context>
<context>
    <name>AuditPanel</name>
    <message>
        <location filename="../../supervisor/console/panels.py" line="304" />
        <source>Who</source>
        <extracomment>("inquiry" | "agent", id) ask the broker for past entries again</extracomment>
        <translation>操作人</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/panels.py" line="305" />
        <source>Action (prefix)</source>
        <translation>操作（前缀）</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/panels.py" line="306" />
        <source>Subject or reason contains…</source>
        <translation>对象或原因包含…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/panels.py" line="307" />
        <source>Refusals only</source>
        <translation>仅看被拒绝的</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/panels.py" line="308" />
        <source>Reload</source>
        <translation>重新加载</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/panels.py" line="309" />
        <source>Ask the broker for the latest 1,000 entries</source>
        <translation>向服务端获取最近 1,000 条记录</translation>
    </message>
</context>
<context>
    <name>ConnectDialog</name>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="372" />
        <source>Connect to a broker</source>
        <translation>连接服务端</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="373" />
        <source>Command endpoint:</source>
        <translation>命令端点：</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="373" />
        <source>Events endpoint:</source>
        <translation>事件端点：</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="373" />
        <source>Supervisor id:</source>
        <translation>主管编号：</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="374" />
        <source>Broker public key:</source>
        <translation>服务端公钥：</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="374" />
        <source>My public key:</source>
        <translation>我的公钥：</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="374" />
        <source>My secret key:</source>
        <translation>我的私钥：</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="378" />
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="379" />
        <source>Key files are needed only when the broker requires CurveZMQ; give all three or none. These values are remembered for the next start.</source>
        <translation>仅当服务端要求 CurveZMQ 时才需要密钥文件；三个都填或都不填。这些设置会在下次启动时沿用。</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="383" />
        <source>Choose a key file</source>
        <translation>选择密钥文件</translation>
    </message>
</context>
<context>
    <name>ConsoleActions</name>
    <message>
        <location filename="../../supervisor/console/actions.py" line="50" />
        <location filename="../../supervisor/console/actions.py" line="61" />
        <source>Quota change for %1 accepted</source>
        <extracomment>fields that are whole numbers (an editor may hand over a float) (accepted, sentence for the status bar)</extracomment>
        <translation>%1 的接单限制修改已生效</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/actions.py" line="51" />
        <location filename="../../supervisor/console/actions.py" line="62" />
        <source>Quota change for %1 refused</source>
        <translation>%1 的接单限制修改被拒绝</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/actions.py" line="53" />
        <source>edited in the agent table</source>
        <translation>在客服表中修改</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/actions.py" line="72" />
        <source>the pool</source>
        <translation>待处理队列</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/actions.py" line="77" />
        <source>%1 reassigned to %2</source>
        <translation>%1 已改派给 %2</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/actions.py" line="78" />
        <source>Reassigning %1 to %2 refused</source>
        <translation>将 %1 改派给 %2 被拒绝</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/actions.py" line="82" />
        <source>reassigned from the console</source>
        <translation>从主管控制台改派</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/actions.py" line="89" />
        <source>Mode of shop %1 changed</source>
        <translation>店铺 %1 的模式已修改</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/actions.py" line="90" />
        <source>Mode change for shop %1 refused</source>
        <translation>店铺 %1 的模式修改被拒绝</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/actions.py" line="95" />
        <source>Status of %1 changed</source>
        <translation>%1 的状态已修改</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/actions.py" line="96" />
        <source>Status change for %1 refused</source>
        <translation>%1 的状态修改被拒绝</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/actions.py" line="102" />
        <source>Quality score of %1 changed</source>
        <translation>%1 的质量分已修改</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/actions.py" line="103" />
        <source>Quality change for %1 refused</source>
        <translation>%1 的质量分修改被拒绝</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/actions.py" line="109" />
        <source>Alert acknowledged</source>
        <translation>告警已确认</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/actions.py" line="109" />
        <source>Acknowledging the alert refused</source>
        <translation>确认告警被拒绝</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/actions.py" line="146" />
        <source>no answer from the broker</source>
        <translation>服务端无应答</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/actions.py" line="153" />
        <source>%1: %2</source>
        <translation>%1：%2</translation>
    </message>
</context>
<context>
    <name>CoverageModel</name>
    <message>
        <location filename="../../supervisor/console/coverage_models.py" line="132" />
        <source>%1, %2: rostered %3, required %4, gap %5</source>
        <translation>%1，%2：排班 %3，需要 %4，缺口 %5</translation>
    </message>
</context>
<context>
    <name>CoverageView</name>
    <message>
        <location filename="../../supervisor/console/coverage_view.py" line="91" />
        <source>Each hour: rostered minus required agents (red: short). Hover a cell for the numbers.</source>
        <translation>每小时：排班人数减需要人数（红色：人手不足）。悬停查看具体数字。</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/coverage_view.py" line="94" />
        <source>Required as computed at %1.</source>
        <translation>需要人数计算于 %1。</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/coverage_view.py" line="97" />
        <source>Required agents are recomputed every minute, and when the roster or quotas change, from the forecast and the handling times measured over the last 7 days: the cells move as those do.</source>
        <translation>需要人数每分钟以及排班或接单限制变更时，根据预测和最近 7 天实测的处理时长重新计算：格子随之变化。</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/coverage_view.py" line="81" />
        <source>The broker has not published coverage yet (it needs a roster).</source>
        <translation>服务端尚未发布覆盖数据（需要排班表）。</translation>
    </message>
</context>
<context>
    <name>GrabsView</name>
    <message>
        <location filename="../../supervisor/console/grabs_view.py" line="75" />
        <location filename="../../supervisor/console/grabs_view.py" line="84" />
        <source>Inquiry</source>
        <extracomment>outcome -&gt; text colour, so a long list reads at a glance</extracomment>
        <translation>咨询</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/grabs_view.py" line="75" />
        <location filename="../../supervisor/console/grabs_view.py" line="84" />
        <source>Agent</source>
        <translation>客服</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/grabs_view.py" line="77" />
        <source>inquiry or agent id</source>
        <translation>咨询或客服编号</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/grabs_view.py" line="78" />
        <source>Show grabs</source>
        <translation>查看抢单</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/grabs_view.py" line="84" />
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/grabs_view.py" line="84" />
        <source>After</source>
        <translation>用时</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/grabs_view.py" line="85" />
        <source>Outcome</source>
        <translation>结果</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/grabs_view.py" line="85" />
        <source>Why</source>
        <translation>原因</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/grabs_view.py" line="103" />
        <source>Type an inquiry or agent id</source>
        <translation>请输入咨询或客服编号</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/grabs_view.py" line="107" />
        <source>Asking the broker…</source>
        <translation>正在询问调度服务…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/grabs_view.py" line="123" />
        <source>No answer from the broker: %1</source>
        <translation>调度服务未应答：%1</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/grabs_view.py" line="129" />
        <source>Nobody has tried to grab %1 yet</source>
        <translation>还没有人抢过 %1</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/grabs_view.py" line="131" />
        <source>%1: %2 attempts, won by %3</source>
        <translation>%1：共 %2 次抢单，%3 抢到</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/grabs_view.py" line="133" />
        <source>nobody</source>
        <translation>无人</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/grabs_view.py" line="140" />
        <source>%1 has no grab attempts recorded</source>
        <translation>%1 没有抢单记录</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/grabs_view.py" line="143" />
        <source>%1: latest %2 attempts, %3 won</source>
        <translation>%1：最近 %2 次抢单，抢到 %3 次</translation>
    </message>
</context>
<context>
    <name>InquiryModel</name>
    <message>
        <location filename="../../supervisor/console/models.py" line="208" />
        <source>Inquiry</source>
        <translation>咨询</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="208" />
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="208" />
        <source>Skill</source>
        <translation>技能</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="208" />
        <source>Shop</source>
        <translation>店铺</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="209" />
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="209" />
        <source>Channel</source>
        <translation>渠道</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="209" />
        <source>Priority</source>
        <translation>优先级</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="209" />
        <source>Waiting</source>
        <translation>等待</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="210" />
        <source>Owner</source>
        <translation>处理人</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="210" />
        <source>SLA</source>
        <translation>SLA</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="238" />
        <source>Drag onto an agent to reassign; double-click for the reassign dialog</source>
        <translation>拖到客服上即可改派；双击打开改派对话框</translation>
    </message>
</context>
<context>
    <name>InquiryPanel</name>
    <message>
        <location filename="../../supervisor/console/panels.py" line="175" />
        <source>All open</source>
        <extracomment>open the reassign dialog for these inquiries</extracomment>
        <translation>全部未结</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/panels.py" line="178" />
        <source>Filter inquiries: id, skill, shop, owner, language…</source>
        <translation>筛选咨询：编号、技能、店铺、处理人、语言…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/panels.py" line="179" />
        <source>Reassign…</source>
        <translation>改派…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/panels.py" line="180" />
        <source>Move the selected inquiry to another agent or back to the pool (or drag it onto an agent)</source>
        <translation>将选中的咨询改派给其他客服或退回待处理队列（也可拖到客服上）</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/panels.py" line="197" />
        <source>%1 of %2 open</source>
        <translation>%1 / %2 个未结</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../supervisor/console/window.py" line="253" />
        <source>Queue</source>
        <extracomment>the refresh tick: models replay changes this often bump when the docks change, so an old saved layout is not forced onto new docks the default layout (a remembered one wins) how long a verdict stays in the status bar (ms); the last one stays in its label None until the first status arrives, so the first one always applies</extracomment>
        <translation>队列</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="253" />
        <source>Coverage (24 h)</source>
        <translation>覆盖（24 小时）</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="254" />
        <source>Alerts</source>
        <translation>告警</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="254" />
        <source>Inquiries</source>
        <translation>咨询</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="254" />
        <source>Audit</source>
        <translation>审计</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="255" />
        <source>Grabs</source>
        <translation>抢单记录</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="255" />
        <source>Who is good at what</source>
        <translation>谁擅长什么</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="256" />
        <source>Robot first line</source>
        <translation>机器人首轮接待</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="259" />
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="260" />
        <source>&amp;Connect…</source>
        <translation>连接(&amp;C)…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="261" />
        <source>&amp;Export</source>
        <translation>导出(&amp;E)</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="262" />
        <source>Queue chart as PNG…</source>
        <translation>队列图表为 PNG…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="262" />
        <source>Coverage heat map as PNG…</source>
        <translation>覆盖热力图为 PNG…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="263" />
        <source>Agents as CSV…</source>
        <translation>客服表为 CSV…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="263" />
        <source>Inquiries as CSV…</source>
        <translation>咨询表为 CSV…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="264" />
        <source>Alerts as CSV…</source>
        <translation>告警为 CSV…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="264" />
        <source>Audit as CSV…</source>
        <translation>审计记录为 CSV…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="267" />
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="268" />
        <source>&amp;Actions</source>
        <translation>操作(&amp;A)</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="269" />
        <source>Change &amp;quotas…</source>
        <translation>修改接单限制(&amp;Q)…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="270" />
        <source>&amp;Reassign selected inquiry…</source>
        <translation>改派选中的咨询(&amp;R)…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="271" />
        <source>Agent s&amp;tatus and quality…</source>
        <translation>客服状态与质量分(&amp;T)…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="272" />
        <source>Shop &amp;mode…</source>
        <translation>店铺模式(&amp;M)…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="273" />
        <source>&amp;What if…</source>
        <translation>假如(&amp;W)…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="274" />
        <source>&amp;Grabs of the selected inquiry</source>
        <translation>所选咨询的抢单记录(&amp;G)</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="275" />
        <source>Grabs of the selected a&amp;gent</source>
        <translation>所选客服的抢单记录(&amp;G)</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="276" />
        <source>Find &amp;agent</source>
        <translation>查找客服(&amp;A)</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="277" />
        <source>Find &amp;inquiry</source>
        <translation>查找咨询(&amp;I)</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="278" />
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="279" />
        <source>&amp;Wallboard (full screen)</source>
        <translation>大屏模式（全屏）(&amp;W)</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="280" />
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="289" />
        <source>grabdesk console — %1 at %2</source>
        <translation>grabdesk 主管控制台 — %1 @ %2</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="325" />
        <source>Cannot connect: %1</source>
        <translation>无法连接：%1</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="366" />
        <source>Not live since %1: figures shown are stale</source>
        <translation>自 %1 起未连接：显示的数据已过期</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="369" />
        <source>Waiting for the broker's snapshot…</source>
        <translation>正在等待服务端快照…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="435" />
        <source>dragged onto %1 in the console</source>
        <translation>在控制台中拖给 %1</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="445" />
        <location filename="../../supervisor/console/window.py" line="500" />
        <source>Select an inquiry in the inquiry table first</source>
        <translation>请先在咨询表中选择一个咨询</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="485" />
        <source>%1 is no longer on the floor</source>
        <translation>%1 已不在现场</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="507" />
        <source>Select an agent in the agent table first</source>
        <translation>请先在客服表中选择客服</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="525" />
        <source>Export as PNG</source>
        <translation>导出为 PNG</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="525" />
        <source>PNG images (*.png)</source>
        <translation>PNG 图片 (*.png)</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="529" />
        <source>Saved %1</source>
        <translation>已保存 %1</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="529" />
        <source>Could not save %1</source>
        <translation>无法保存 %1</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="535" />
        <source>Export as CSV</source>
        <translation>导出为 CSV</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="535" />
        <source>CSV files (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="541" />
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/window.py" line="543" />
        <source>Saved %1 rows to %2</source>
        <translation>已将 %1 行保存到 %2</translation>
    </message>
</context>
<context>
    <name>NowCoverageModel</name>
    <message>
        <location filename="../../supervisor/console/coverage_models.py" line="149" />
        <source>Online</source>
        <translation>在线</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/coverage_models.py" line="149" />
        <source>At cap</source>
        <translation>已满</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/coverage_models.py" line="149" />
        <source>Rostered now</source>
        <translation>当前排班</translation>
    </message>
</context>
<context>
    <name>QueueChart</name>
    <message>
        <location filename="../../supervisor/console/chart.py" line="151" />
        <source>Overlaid</source>
        <extracomment>curve colours, assigned to skills in the order they first appear the time windows the range box offers (seconds); the second is the default wide enough for skill, depth, wait and the inquiry id how much lighter a stacked band is than its line (percent, QColor.lighter) the y axes reach this far above the highest visible value when they rescale... the wait axis reaches this far above the breach line, so its label (drawn above the line) stays in view ...which they do when the data outgrows them or falls below this share of them the time axis runs this share of the window ahead of "now", and moves in such steps an inquiry id the user asked to see (double-click in the "now" table) right edge of the time axis; "now" stays left of it (see _follow)</extracomment>
        <translation>叠加</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="151" />
        <source>Stacked</source>
        <translation>堆积</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="152" />
        <source>Last 30 min</source>
        <translation>最近 30 分钟</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="152" />
        <source>Last hour</source>
        <translation>最近 1 小时</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="152" />
        <source>Last 10 min</source>
        <translation>最近 10 分钟</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="153" />
        <source>Last 2 hours</source>
        <translation>最近 2 小时</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="153" />
        <source>Last 4 hours</source>
        <translation>最近 4 小时</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="158" />
        <source>Stack the skills' queues or draw them over each other</source>
        <translation>将各技能的队列堆积显示或叠加显示</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="159" />
        <source>How much history to show</source>
        <translation>显示多长时间的历史</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="160" />
        <source>Queued</source>
        <translation>排队</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="161" />
        <source>Longest wait (min)</source>
        <translation>最长等待（分钟）</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="162" />
        <source>Not live: the chart shows gaps and may be stale</source>
        <translation>未连接：图表有空缺，数据可能已过期</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="269" />
        <source>SLA warning %1</source>
        <translation>SLA 预警 %1</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="270" />
        <source>SLA first response %1</source>
        <translation>SLA 首次响应 %1</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="275" />
        <source>Floor time &lt;b&gt;%1&lt;/b&gt;</source>
        <translation>现场时间 &lt;b&gt;%1&lt;/b&gt;</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="278" />
        <source>Queued &lt;b&gt;%1&lt;/b&gt;</source>
        <translation>排队 &lt;b&gt;%1&lt;/b&gt;</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="279" />
        <source>Held &lt;b&gt;%1&lt;/b&gt;</source>
        <translation>处理中 &lt;b&gt;%1&lt;/b&gt;</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="280" />
        <source>Online &lt;b&gt;%1&lt;/b&gt;</source>
        <translation>在线 &lt;b&gt;%1&lt;/b&gt;</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="281" />
        <source>At cap &lt;b&gt;%1&lt;/b&gt;</source>
        <translation>已满 &lt;b&gt;%1&lt;/b&gt;</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="285" />
        <source>Longest wait &lt;b&gt;%1&lt;/b&gt; (%2, %3)</source>
        <translation>最长等待 &lt;b&gt;%1&lt;/b&gt;（%2，%3）</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="291" />
        <source>First response SLA today &lt;b&gt;%1 %&lt;/b&gt;</source>
        <translation>今日首次响应 SLA &lt;b&gt;%1 %&lt;/b&gt;</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="294" />
        <source>Max Gini &lt;b&gt;%1&lt;/b&gt;</source>
        <translation>最大基尼系数 &lt;b&gt;%1&lt;/b&gt;</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="296" />
        <source>Resolved today &lt;b&gt;%1&lt;/b&gt;</source>
        <translation>今日已解决 &lt;b&gt;%1&lt;/b&gt;</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/chart.py" line="297" />
        <source>Abandoned today &lt;b&gt;%1&lt;/b&gt;</source>
        <translation>今日已放弃 &lt;b&gt;%1&lt;/b&gt;</translation>
    </message>
</context>
<context>
    <name>QueueNowModel</name>
    <message>
        <location filename="../../supervisor/console/models.py" line="353" />
        <source>Skill</source>
        <translation>技能</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="353" />
        <source>Queued</source>
        <translation>排队</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="353" />
        <source>Longest wait</source>
        <translation>最长等待</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/models.py" line="353" />
        <source>Inquiry</source>
        <translation>咨询</translation>
    </message>
</context>
<context>
    <name>QuotaDialog</name>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="98" />
        <source>Quotas</source>
        <extracomment>the broker never accepts more than this for break_minutes (the editor allows more; it decides)</extracomment>
        <translation>接单限制</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="102" />
        <source>One agent</source>
        <translation>单个客服</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="102" />
        <source>A whole group</source>
        <translation>整个组</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="105" />
        <source>Concurrent cap</source>
        <translation>同时接待上限</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="105" />
        <source>Daily grabs</source>
        <translation>每日抢单限额</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="106" />
        <source>Continuous service (hours)</source>
        <translation>连续服务上限（小时）</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="107" />
        <source>Forced break (minutes)</source>
        <translation>强制休息（分钟）</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="110" />
        <source>Reason (kept in the audit log):</source>
        <translation>原因（记入审计日志）：</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="111" />
        <source>Apply</source>
        <translation>应用</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="148" />
        <source>now: %1</source>
        <translation>当前：%1</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="163" />
        <source>Choose an agent or a group first</source>
        <translation>请先选择客服或组</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="166" />
        <source>Tick the limits to change</source>
        <translation>请勾选要修改的限制</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="170" />
        <source>Waiting for the broker…</source>
        <translation>等待调度服务答复…</translation>
    </message>
</context>
<context>
    <name>ReassignDialog</name>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="236" />
        <location filename="../../supervisor/console/dialogs.py" line="241" />
        <source>Reassign</source>
        <translation>改派</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="237" />
        <source>Move to</source>
        <translation>改派给</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="237" />
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="237" />
        <source>Held / cap</source>
        <translation>持有 / 上限</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="238" />
        <source>Note</source>
        <translation>说明</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="239" />
        <source>Find an agent…</source>
        <translation>查找客服…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="240" />
        <source>Reason (kept in the audit log):</source>
        <translation>原因（记入审计日志）：</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="251" />
        <source>%1 is no longer open</source>
        <translation>%1 已结束</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="253" />
        <source>held by %1</source>
        <translation>由 %1 处理中</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="253" />
        <source>in the pool</source>
        <translation>在待处理队列中</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="254" />
        <source>%1 (%2, %3, %4), waiting %5, %6</source>
        <translation>%1（%2，%3，%4），已等待 %5，%6</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="262" />
        <source>Back to the pool</source>
        <translation>退回待处理队列</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="262" />
        <source>anyone eligible may grab it</source>
        <translation>有资格的客服均可抢单</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="276" />
        <source>eligible</source>
        <translation>可接</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="302" />
        <source>Choose an agent, or the pool</source>
        <translation>请选择客服或待处理队列</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/dialogs.py" line="307" />
        <source>Waiting for the broker…</source>
        <translation>等待调度服务答复…</translation>
    </message>
</context>
<context>
    <name>RobotPanel</name>
    <message>
        <location filename="../../supervisor/console/robot_panel.py" line="50" />
        <source>Skill</source>
        <translation>技能</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/robot_panel.py" line="50" />
        <source>Contained</source>
        <translation>机器人解决</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/robot_panel.py" line="50" />
        <source>Escalated</source>
        <translation>转人工</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/robot_panel.py" line="51" />
        <source>Containment</source>
        <translation>解决率</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/robot_panel.py" line="62" />
        <source>No floor metrics from the broker yet</source>
        <translation>尚未收到服务器的现场指标</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/robot_panel.py" line="65" />
        <source>With the robot now: %1. Last hour: %2 contained, %3 escalated (containment %4). Today: %5 contained, %6 escalated (containment %7).</source>
        <translation>机器人接待中：%1。最近一小时：机器人解决 %2，转人工 %3（解决率 %4）。今日：机器人解决 %5，转人工 %6（解决率 %7）。</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/robot_panel.py" line="75" />
        <source>No robot has connected to this broker</source>
        <translation>尚无机器人连接到此服务器</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/robot_panel.py" line="86" />
        <source>disconnected</source>
        <translation>已断开</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/robot_panel.py" line="88" />
        <source>answering</source>
        <translation>应答中</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/robot_panel.py" line="90" />
        <source>connected, not answering</source>
        <translation>已连接，未应答</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/robot_panel.py" line="91" />
        <source>%1: %2, %3 decided, %4 errors</source>
        <translation>%1：%2，已处理 %3，错误 %4</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/robot_panel.py" line="95" />
        <source> (last error %1: %2)</source>
        <translation>（最近错误 %1：%2）</translation>
    </message>
</context>
<context>
    <name>ShopModeDialog</name>
    <message>
        <location filename="../../supervisor/console/control_dialogs.py" line="97" />
        <source>Shop mode</source>
        <translation>店铺模式</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/control_dialogs.py" line="98" />
        <source>Shop:</source>
        <translation>店铺：</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/control_dialogs.py" line="99" />
        <source>Mode:</source>
        <translation>模式：</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/control_dialogs.py" line="100" />
        <source>Push after:</source>
        <translation>派单延迟：</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/control_dialogs.py" line="101" />
        <source>In hybrid mode an inquiry nobody grabbed is pushed to an agent after this</source>
        <translation>混合模式下，无人抢的咨询在此时间后派给客服</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/control_dialogs.py" line="102" />
        <source>Reason (kept in the audit log):</source>
        <translation>原因（记入审计日志）：</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/control_dialogs.py" line="103" />
        <source>Apply</source>
        <translation>应用</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/control_dialogs.py" line="121" />
        <source>The broker has sent no shops yet</source>
        <translation>调度服务尚未发送店铺信息</translation>
    </message>
</context>
<context>
    <name>SkillsView</name>
    <message>
        <location filename="../../supervisor/console/skills_view.py" line="89" />
        <source>Last hour</source>
        <extracomment>the periods offered, in floor seconds back from now (None: since the floor's midnight) fn() -&gt; the floor's time (the broker's clock)</extracomment>
        <translation>最近一小时</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/skills_view.py" line="89" />
        <source>Today</source>
        <translation>今天</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/skills_view.py" line="89" />
        <source>Last 7 days</source>
        <translation>最近 7 天</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/skills_view.py" line="92" />
        <source>Filter by agent or skill</source>
        <translation>按客服或技能筛选</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/skills_view.py" line="93" />
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/skills_view.py" line="95" />
        <source>Agent</source>
        <translation>客服</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/skills_view.py" line="95" />
        <source>Skill</source>
        <translation>技能</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/skills_view.py" line="95" />
        <source>Handled</source>
        <translation>已处理</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/skills_view.py" line="95" />
        <source>First response (median)</source>
        <translation>首次响应（中位数）</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/skills_view.py" line="96" />
        <source>Resolution (median)</source>
        <translation>解决时长（中位数）</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/skills_view.py" line="96" />
        <source>Satisfaction</source>
        <translation>满意度</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/skills_view.py" line="111" />
        <source>Asking the broker…</source>
        <translation>正在询问调度服务…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/skills_view.py" line="122" />
        <source>No answer from the broker: %1</source>
        <translation>调度服务未应答：%1</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/skills_view.py" line="139" />
        <source>%1 agent and skill pairs, %2 to %3</source>
        <translation>%1 组客服与技能，%2 至 %3</translation>
    </message>
</context>
<context>
    <name>Wallboard</name>
    <message>
        <location filename="../../supervisor/console/wallboard.py" line="88" />
        <source>grabdesk wallboard</source>
        <extracomment>the figures, in reading order figure height as a share of the window's height, so a wall-sized screen gets wall-sized digits the user asked to leave (Esc, F11)</extracomment>
        <translation>grabdesk 大屏</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/wallboard.py" line="89" />
        <source>Queue</source>
        <translation>排队</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/wallboard.py" line="89" />
        <source>Longest wait</source>
        <translation>最长等待</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/wallboard.py" line="90" />
        <source>First response SLA today</source>
        <translation>今日首次响应 SLA</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/wallboard.py" line="90" />
        <source>Online</source>
        <translation>在线</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/wallboard.py" line="91" />
        <source>At cap</source>
        <translation>满负荷</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/wallboard.py" line="112" />
        <source>Not live since %1 — figures are stale</source>
        <translation>自 %1 起未连接——数据已过时</translation>
    </message>
</context>
<context>
    <name>WhatIfDialog</name>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="77" />
        <source>What if…</source>
        <extracomment>the figures shown, in order: (lab key, label)</extracomment>
        <translation>假如…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="86" />
        <source>Double-11 day (built in)</source>
        <translation>双十一全天（内置）</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="87" />
        <source>Recorded traffic (a store on this machine)</source>
        <translation>录制的流量（本机上的存储）</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="89" />
        <source>broker.db</source>
        <translation>broker.db</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="90" />
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="99" />
        <location filename="../../supervisor/console/whatif.py" line="104" />
        <location filename="../../supervisor/console/whatif.py" line="107" />
        <location filename="../../supervisor/console/whatif.py" line="111" />
        <source>unchanged</source>
        <translation>不变</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="107" />
        <source>on</source>
        <translation>开</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="107" />
        <source>off</source>
        <translation>关</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="114" />
        <source>Traffic</source>
        <translation>流量</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="115" />
        <source>Store</source>
        <translation>存储</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="116" />
        <source>From</source>
        <translation>从</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="117" />
        <source>Until</source>
        <translation>到</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="118" />
        <source>Mode of every shop</source>
        <translation>所有店铺的模式</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="119" />
        <source>Hybrid delay</source>
        <translation>混合模式延迟</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="120" />
        <source>Fair share</source>
        <translation>公平分配</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="121" />
        <source>Concurrent cap of every group</source>
        <translation>所有小组的并发上限</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="123" />
        <source>Run the lab</source>
        <translation>运行推演</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="125" />
        <source>Apply to the floor</source>
        <translation>应用到现场</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="134" />
        <location filename="../../supervisor/console/whatif.py" line="222" />
        <source>as is</source>
        <translation>现状</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="134" />
        <location filename="../../supervisor/console/whatif.py" line="222" />
        <source>changed</source>
        <translation>调整后</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="139" />
        <source>first response p90 (min)</source>
        <translation>首次响应 p90（分钟）</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="140" />
        <source>hour of the traffic</source>
        <translation>流量的小时</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="170" />
        <source>A broker store</source>
        <translation>调度服务存储</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="188" />
        <source>Running the lab…</source>
        <translation>正在运行推演…</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="205" />
        <source>The lab stopped (exit %1)</source>
        <translation>推演已停止（退出码 %1）</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="224" />
        <source>%1 arrivals of %2, %3 s</source>
        <translation>%2 的 %1 个到达，%3 秒</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="235" />
        <source>what-if: %1</source>
        <translation>假如：%1</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="246" />
        <source> Fair share is part of a group's definition: an admin changes it.</source>
        <translation> 公平分配属于小组定义的一部分：需由管理员修改。</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/whatif.py" line="248" />
        <source>Sent %1 command(s) to the broker.</source>
        <translation>已向调度服务发送 %1 条命令。</translation>
    </message>
</context>
<context>
    <name>Words</name>
    <message>
        <location filename="../../supervisor/console/text.py" line="28" />
        <source>online</source>
        <translation>在线</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="28" />
        <source>away</source>
        <translation>离开</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="28" />
        <source>break</source>
        <translation>休息</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="29" />
        <source>offline</source>
        <translation>离线</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="32" />
        <source>queued</source>
        <translation>排队中</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="32" />
        <source>held</source>
        <translation>处理中</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="36" />
        <source>first response at risk</source>
        <translation>首次响应即将超时</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="37" />
        <source>first response breached</source>
        <translation>首次响应已超时</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="38" />
        <source>resolution at risk</source>
        <translation>解决即将超时</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="39" />
        <source>resolution breached</source>
        <translation>解决已超时</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="43" />
        <source>info</source>
        <translation>信息</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="43" />
        <source>warning</source>
        <translation>警告</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="44" />
        <source>critical</source>
        <translation>严重</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="48" />
        <source>SLA at risk</source>
        <translation>SLA 即将超时</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="48" />
        <source>SLA breached</source>
        <translation>SLA 已超时</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="49" />
        <source>silent after grab</source>
        <translation>抢单后未回复</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="49" />
        <source>uneven grabbing</source>
        <translation>抢单不均</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="50" />
        <source>coverage gap</source>
        <translation>人手缺口</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="50" />
        <source>nobody can take it</source>
        <translation>无人可接</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="56" />
        <source>%1 does not serve shop %2</source>
        <translation>%1 不服务店铺 %2</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="57" />
        <source>%1 lacks skill %2</source>
        <translation>%1 没有技能 %2</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="58" />
        <source>%1 does not handle language %2</source>
        <translation>%1 不处理语言 %2</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="59" />
        <source>%1 does not handle channel %2</source>
        <translation>%1 不处理渠道 %2</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="60" />
        <source>%1 already holds %2</source>
        <translation>%1 已在处理 %2</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="62" />
        <source>%1 is %2, not online</source>
        <translation>%1 当前为%2，不在线</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="63" />
        <source>%1 is at the concurrent cap (%2)</source>
        <translation>%1 已达同时接待上限（%2）</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="65" />
        <source>%1 is on a forced break until %2</source>
        <translation>%1 正在强制休息，至 %2</translation>
    </message>
    <message>
        <location filename="../../supervisor/console/text.py" line="66" />
        <source>%1 has reached the continuous-service limit</source>
        <translation>%1 已达连续服务时长上限</translation>
    </message>
</context>
<context>
    <name>_BrokerDialog</name>
    <message>
        <location filename="../../supervisor/console/control_dialogs.py" line="54" />
        <source>Waiting for the broker…</source>
        <extracomment>the modes a shop may run, in the order a supervisor reads them the statuses a supervisor may set the delay editor's ceiling (s); the broker has its own limit and says so when it refuses</extracomment>
        <translation>等待调度服务答复…</translation>
    </message>
</context>
</TS>