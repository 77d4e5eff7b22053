#include "ui/takes_strip.h"

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QVBoxLayout>

#include "frameloom/core/media_paths.h"
#include "ui/take_scores.h"
#include "ui/thumbnail_cache.h"

namespace fl::studio {

namespace {
QString qs(const std::string& s) { return QString::fromStdString(s); }
constexpr int kThumb = 96;
}  // namespace

TakesStrip::TakesStrip(ThumbnailCache* thumbnails, QWidget* parent)
    : QWidget(parent), thumbnails_(thumbnails) {
    setObjectName("takesStrip");
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new QLabel(tr("Takes"), this));
    list_ = new QListWidget(this);
    list_->setObjectName("takeList");
    list_->setViewMode(QListView::IconMode);
    list_->setFlow(QListView::LeftToRight);
    list_->setWrapping(false);
    list_->setMovement(QListView::Static);
    list_->setIconSize(QSize(kThumb, kThumb));
    list_->setGridSize(QSize(kThumb + 90, kThumb + 64));
    list_->setWordWrap(true);
    list_->setMinimumHeight(kThumb + 80);
    list_->setToolTip(tr("Click to play a take, double-click to pick it"));
    layout->addWidget(list_, 1);

    auto* row = new QHBoxLayout;
    count_ = new QSpinBox(this);
    count_->setObjectName("variationCount");
    count_->setRange(1, 16);
    count_->setValue(2);
    count_->setToolTip(tr("Number of variations (one seed each)"));
    generate_n_ = new QPushButton(tr("Generate N"), this);
    generate_n_->setObjectName("generateVariationsButton");
    pick_ = new QPushButton(tr("Pick"), this);
    pick_->setObjectName("pickTakeButton");
    pick_->setToolTip(tr("Make this the shot's take and put it on the timeline"));
    extend_ = new QPushButton(tr("Extend"), this);
    extend_->setObjectName("extendTakeButton");
    extend_->setToolTip(tr("Continue this take: a new take that starts with it"));
    extend_seconds_ = new QDoubleSpinBox(this);
    extend_seconds_->setObjectName("extendSeconds");
    extend_seconds_->setRange(0.0, 600.0);
    extend_seconds_->setSingleStep(0.5);
    extend_seconds_->setDecimals(1);
    extend_seconds_->setPrefix(tr("by "));
    extend_seconds_->setSuffix(tr(" s"));
    extend_seconds_->setSpecialValueText(tr("by 1 pass"));
    extend_seconds_->setToolTip(
        tr("How much Extend adds: seconds of new footage (passes of the model, each "
           "continuing the last), or one pass of the model"));
    correct_ = new QCheckBox(tr("Correct"), this);
    correct_->setObjectName("correctExtension");
    correct_->setChecked(true);
    correct_->setToolTip(
        tr("Extend matches the continuation's colour to the take (with a ramp at the seam), so "
           "chained extensions do not drift"));
    last_frame_ = new QPushButton(tr("Last frame → next shot"), this);
    last_frame_->setObjectName("lastFrameToNextButton");
    last_frame_->setToolTip(tr("Use the last frame of this take as the next shot's first frame"));
    row->addWidget(count_);
    row->addWidget(generate_n_);
    row->addStretch(1);
    remix_ = new QPushButton(tr("Remix"), this);
    remix_->setObjectName("remixTakeButton");
    remix_->setToolTip(
        tr("Load this take's settings and seed (locked) into the shot: edit the prompt, then Generate"));
    row->addWidget(pick_);
    row->addWidget(remix_);
    // Continuing a take gets a row of its own, so the strip stays narrow enough for the inspector beside it.
    auto* continue_row = new QHBoxLayout;
    continue_row->addWidget(extend_);
    continue_row->addWidget(extend_seconds_);
    continue_row->addWidget(correct_);
    continue_row->addStretch(1);
    remove_ = new QPushButton(tr("Remove"), this);
    remove_->setObjectName("removeTakeButton");
    remove_->setToolTip(tr("Remove this take from the shot (undoable; its file is kept)"));
    continue_row->addWidget(last_frame_);
    row->addWidget(remove_);
    layout->addLayout(row);
    layout->addLayout(continue_row);

    connect(list_, &QListWidget::itemClicked, this,
            [this](QListWidgetItem* item) { emit takeClicked(item->data(IdRole).toString()); });
    connect(list_, &QListWidget::itemDoubleClicked, this,
            [this](QListWidgetItem* item) { emit pickRequested(item->data(IdRole).toString()); });
    connect(list_, &QListWidget::currentItemChanged, this, [this] { update_buttons(); });
    connect(generate_n_, &QPushButton::clicked, this,
            [this] { emit generateVariationsRequested(count_->value()); });
    connect(pick_, &QPushButton::clicked, this, [this] {
        if (!currentTake().isEmpty()) emit pickRequested(currentTake());
    });
    connect(extend_, &QPushButton::clicked, this, [this] {
        if (!currentTake().isEmpty()) emit extendRequested(currentTake());
    });
    connect(remix_, &QPushButton::clicked, this, [this] {
        if (!currentTake().isEmpty()) emit remixRequested(currentTake());
    });
    connect(last_frame_, &QPushButton::clicked, this, [this] {
        if (!currentTake().isEmpty()) emit lastFrameToNextRequested(currentTake());
    });
    connect(remove_, &QPushButton::clicked, this, [this] {
        if (!currentTake().isEmpty()) emit removeRequested(currentTake());
    });
    update_buttons();
}

int TakesStrip::variationCount() const { return count_->value(); }
void TakesStrip::setVariationCount(int n) { count_->setValue(n); }
bool TakesStrip::correctExtensions() const { return correct_->isChecked(); }
void TakesStrip::setCorrectExtensions(bool on) { correct_->setChecked(on); }
double TakesStrip::extendSeconds() const { return extend_seconds_->value(); }
void TakesStrip::setExtendSeconds(double seconds) { extend_seconds_->setValue(seconds); }

QString TakesStrip::currentTake() const {
    if (QListWidgetItem* item = list_->currentItem()) return item->data(IdRole).toString();
    return qs(selected_);
}

void TakesStrip::update_buttons() {
    const bool has = !currentTake().isEmpty();
    pick_->setEnabled(has);
    extend_->setEnabled(has);
    remix_->setEnabled(has);
    last_frame_->setEnabled(has);
    remove_->setEnabled(has);
}

void TakesStrip::rebuild(const core::Shot* shot, const std::filesystem::path& project_dir,
                         const std::map<std::string, consistency::TakeScores>& scores,
                         const std::string& best) {
    // Keep the card the user was looking at current across rebuilds.
    const QString keep = list_->currentItem() ? list_->currentItem()->data(IdRole).toString() : QString();
    QSignalBlocker block(list_);
    list_->clear();
    selected_ = shot ? shot->selected_take : std::string();
    generate_n_->setEnabled(shot != nullptr);
    count_->setEnabled(shot != nullptr);
    if (!shot) {
        update_buttons();
        return;
    }
    QListWidgetItem* current = nullptr;
    for (const core::Take& take : shot->takes) {
        QString text = tr("%1 · seed %2").arg(qs(take.id)).arg(take.params.seed);
        if (!take.params.conditioning.extend.empty()) text += tr(" · extended");
        auto it = scores.find(take.id);
        const QString score = it == scores.end() ? tr("not scored") : qs(describe_scores(it->second));
        text += QStringLiteral("\n") + score;
        const bool is_best = take.id == best;
        if (is_best) text += tr("\n★ best");
        auto* item = new QListWidgetItem(text, list_);
        item->setData(IdRole, qs(take.id));
        item->setData(ScoreRole, it == scores.end() ? QString() : score);
        item->setData(BestRole, is_best);
        const QPixmap thumb =
            thumbnails_->first_frame(core::resolve_media_reference(take.file, project_dir), kThumb);
        if (!thumb.isNull()) item->setIcon(QIcon(thumb));
        item->setToolTip(tr("%1\n%2\n%3 steps · %4x%5 · %6 frames\n%7")
                             .arg(qs(take.file), qs(take.created))
                             .arg(take.params.steps)
                             .arg(take.params.width)
                             .arg(take.params.height)
                             .arg(take.params.frames)
                             .arg(qs(take.params.prompt)));
        if (take.id == shot->selected_take) {
            QFont bold = item->font();
            bold.setBold(true);
            item->setFont(bold);
            if (!current) current = item;
        }
        if (!keep.isEmpty() && qs(take.id) == keep) current = item;
    }
    if (current) list_->setCurrentItem(current);
    update_buttons();
}

}  // namespace fl::studio
